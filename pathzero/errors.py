"""The error type for bad user input, shared by every layer.

Anything raised as `UsageError` reaches the user as one line on stderr and exit code 2; its
message says what was wrong and what would be right.
"""


class UsageError(ValueError):
    """Bad input from the user (a name, a number, a file): the message is shown as it is."""
