"""Packaging for minsnr. Every dependency and version lives in settings.ini; this file only reads it."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

cfg = ConfigParser(delimiters=["="])
cfg.read(Path(__file__).parent / "settings.ini", encoding="utf-8")
meta = cfg["DEFAULT"]


def _split(key):
    return meta.get(key, "").split()


setuptools.setup(
    name=meta["lib_name"],
    version=meta["version"],
    description=meta["description"],
    author=meta["author"],
    license="Apache-2.0",
    keywords=_split("keywords"),
    url=meta["git_url"],
    project_urls={"Source": meta["git_url"]},
    classifiers=["Programming Language :: Python :: 3", "Topic :: Scientific/Engineering :: Artificial Intelligence"],
    python_requires=f">={meta['min_python']}",
    packages=setuptools.find_packages(include=[meta["lib_path"], f"{meta['lib_path']}.*"]),
    include_package_data=True,
    install_requires=_split("requirements"),
    extras_require={"dev": _split("dev_requirements")},
    entry_points={
        "console_scripts": _split("console_scripts"),
        "nbdev": [f"{meta['lib_path']}={meta['lib_path']}._modidx:d"],
    },
    long_description=(Path(__file__).parent / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    zip_safe=False,
)
