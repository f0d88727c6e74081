"""Installs pathzero: one package, `pathzero`, whose subpackages live in the top-level folders
agents/, envs/, nets/ and scripts/ (package_dir maps each name to its folder), and the `pathzero`
command. Nothing named `agents`, `envs`, `nets` or `scripts` is installed at the top level, and nothing of
benchmarks/: the benchmarks run from a checkout (`python -m benchmarks`, with the `bench` extra)."""
from setuptools import setup

FOLDERS = {"agents": ["common"], "envs": [], "nets": [], "scripts": []}  # folder: its subpackages

packages, package_dir = ["pathzero"], {"pathzero": "pathzero"}
for folder, subpackages in FOLDERS.items():
    for name in [folder] + [f"{folder}.{sub}" for sub in subpackages]:
        packages.append(f"pathzero.{name}")
        package_dir[f"pathzero.{name}"] = name.replace(".", "/")

setup(
    name="pathzero",
    version="0.1.0",
    description="A3C, PathNet and AlphaZero-style agents for Atari and board games, in PyTorch.",
    python_requires=">=3.10",
    packages=packages,
    package_dir=package_dir,
    package_data={"pathzero.agents": ["report_site/*"]},  # the report's page, script and style
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
        "moviepy<2",  # TensorBoard add_video (evaluation videos) encodes with moviepy 1.x
        "tqdm",
        "matplotlib",
        "plotly",  # its JavaScript bundle draws the charts of `pathzero report` (copied beside the page)
        "safetensors",  # the weights of an exported model (`pathzero export`)
        "tomli; python_version < '3.11'",  # --config FILE.toml (tomllib is in the standard library from 3.11)
        "open_spiel; python_version >= '3.11'",  # the external opponent and rules check for board games
    ],
    extras_require={
        # playwright: the report's tests drive Debian's chromium (installed by `make test` when missing)
        "test": ["pytest", "pytest-timeout", "pytest-xdist", "setuptools>=70.1", "playwright"],  # setuptools: the install test builds the package
        # benchmarks/ (run from a checkout, not installed): SB3's A2C is the throughput baseline, scikit-learn's
        # load_digits the data set of PathNet's supervised experiment
        "bench": ["stable-baselines3==2.9.2", "scikit-learn"],
        "ray": ["ray>=2.9"],
        "hub": ["huggingface_hub"],  # pathzero export --push  # --backend ray: matrices, sequences and A3C workers on a Ray cluster
    },
    entry_points={"console_scripts": ["pathzero=pathzero.scripts.cli:main"]},
)
