"""Symbolic links never lead out of what the caller named (issue 26).

Inside a folder given to ingest or `--db`, a link is followed only when its target lies inside that folder. A
path named on the command line may be a link only to something inside the folder that holds it: the shell
expands `govdata ingest portal/*` into one argument per entry, so the argument is the entry and its folder the
boundary. Anything else, or a loop of links, is skipped and named, so a planted `portal/readme.txt ->
/etc/passwd` cannot be published. Hard links and the path's other components are not links this rule sees.
"""

from pathlib import Path


def leaves(path: Path, folder: Path) -> bool:
    """True when PATH is a symbolic link whose target is outside FOLDER (a resolved path) or cannot be reached."""
    if not path.is_symlink():
        return False
    try:
        return not path.resolve().is_relative_to(folder)
    except (OSError, RuntimeError):  # a loop of links (RuntimeError up to Python 3.12)
        return True


def leaves_its_folder(path: Path) -> bool:
    """A path the caller named: a link out of the folder that holds it."""
    return leaves(path, path.parent.resolve())


def skip_warning(path: Path, folder: Path) -> str:
    """The warning for a link that was not followed."""
    return f"{path}: a symbolic link out of {folder}, skipped (name its target to include it)"
