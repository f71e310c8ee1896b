import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_environment_variable_the_settings_read_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    sources = [*ROOT.joinpath("config", "settings").glob("*.py")]
    sources += [ROOT / "sync" / "management" / "commands" / "ensure_admin.py"]
    names = set()
    for source in sources:
        text = source.read_text()
        names |= set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', text))
        names |= set(re.findall(r'environ\.get\(\s*"([A-Z_]+)"', text))
    assert names, "no settings found: the pattern is wrong"
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert missing == []


# Set by the system, not by whoever deploys the hub.
SYSTEM_VARIABLES = {"TMPDIR", "HOME", "PATH"}


def test_every_environment_variable_the_deployment_reads_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    gunicorn = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    entrypoint = (ROOT / "deploy" / "entrypoint.sh").read_text()
    names = set(re.findall(r'(?:environ\.get|_int)\(\s*"([A-Z_]+)"', gunicorn))
    names |= set(re.findall(r"\$\{([A-Z_]+):-", entrypoint))
    names -= SYSTEM_VARIABLES
    assert {"GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "HUB_PYTHON"} <= names
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert missing == []
