"""The built wheel is a working application: templates, static files, translations, migrations."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Run in the new venv from a folder outside the repository: everything must come from the wheel.
_PROBE = r"""
import json, sys
from pathlib import Path

import lms
from lms import create_app
from lms.migrations import upgrade

tmp = Path(sys.argv[1])
url = f"sqlite:///{tmp / 'wheel.sqlite'}"
upgrade(url)  # the migrations (env.py, versions/) come from the wheel too
app = create_app({"TESTING": True, "SECRET_KEY": "wheel-test", "DATABASE_URL": url})
client = app.test_client()
login = client.get("/login")
french = client.get("/login", headers={"Accept-Language": "fr"})
css = client.get("/static/atlas.css")
print(json.dumps({
    "lms_file": lms.__file__,
    "template_folder": str(Path(app.root_path) / app.template_folder),
    "login_status": login.status_code,
    "login_html": login.get_data(as_text=True),
    "french_html": french.get_data(as_text=True),
    "css_status": css.status_code,
    "css_bytes": len(css.data),
    "editable_finder": sorted(name for name in sys.modules if name.startswith("__editable__")),
}))
"""


def _copy_source(target: Path) -> Path:
    """The files a wheel is built from, without the venv, egg-info or earlier build output."""
    ignore = shutil.ignore_patterns(
        ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", "instance", "tests"
    )
    shutil.copytree(REPO, target, ignore=ignore)
    return target


@pytest.mark.slow
def test_the_wheel_serves_pages_outside_the_repository(tmp_path: Path) -> None:
    source = _copy_source(tmp_path / "src")
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(dist),
            str(source),
        ],
        check=True,
        timeout=600,
    )
    (wheel,) = dist.glob("atlas_lms-*.whl")
    # Every file of the two packages is in the wheel: templates, static files, catalogues,
    # migrations and the grader's feedback page, not only what the probe below happens to read.
    packaged = {
        path.relative_to(source).as_posix()
        for package in ("lms", "grading")
        for path in (source / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert packaged - set(zipfile.ZipFile(wheel).namelist()) == set()

    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        check=True,
        timeout=600,
    )
    # Third-party packages from the test venv, but not its editable atlas-lms: a directory named
    # in a .pth line is added to sys.path without its own .pth files (the editable finder) running.
    new_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(new_site) / "test_venv_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["LMS_INSTANCE_PATH"] = str(tmp_path / "instance")
    probe = subprocess.run(
        [str(python), "-c", _PROBE, str(tmp_path)],
        cwd=outside,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seen = json.loads(probe.stdout.strip().splitlines()[-1])

    assert seen["editable_finder"] == []
    assert Path(seen["lms_file"]).is_relative_to(target), seen["lms_file"]
    assert Path(seen["template_folder"]).is_relative_to(target)
    assert seen["login_status"] == 200
    assert '<form method="post"' in seen["login_html"]
    assert 'name="password"' in seen["login_html"] and 'name="csrf_token"' in seen["login_html"]
    assert "Se connecter" in seen["french_html"]  # the compiled catalogue is in the wheel
    assert seen["css_status"] == 200
    assert seen["css_bytes"] == (REPO / "lms/static/atlas.css").stat().st_size
