"""Installs pathzero: the agents, envs, nets and scripts packages and the `pathzero` command."""
from setuptools import find_packages, setup

setup(
    name="pathzero",
    version="0.1.0",
    description="A3C, PathNet and AlphaZero-style agents for Atari and board games, in PyTorch.",
    python_requires=">=3.10",
    packages=find_packages(include=["agents", "agents.*", "envs", "envs.*", "nets", "nets.*",
                                    "scripts", "scripts.*"]),
    install_requires=[
        "torch>=2.2",
        "numpy",
        "gymnasium[classic-control]>=1.0",
        "ale-py>=0.10",
        "opencv-python-headless",
        "minatar>=1.0.15",
        "seaborn",  # MinAtar renders RGB frames with its palettes
        "tensorboard",
        "imageio",
        "imageio-ffmpeg",
        "tqdm",
        "matplotlib",
        "scikit-learn",  # load_digits: the bundled data set of PathNet's supervised experiment
        "open_spiel; python_version >= '3.11'",  # the external opponent and rules check for board games
    ],
    extras_require={
        "test": ["pytest", "pytest-timeout"],
        "bench": ["stable-baselines3"],
    },
    entry_points={"console_scripts": ["pathzero=scripts.cli:main"]},
)
