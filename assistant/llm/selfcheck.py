"""Does the installed llama.cpp read a prompt with the bundled model on this CPU?

    python -m assistant.llm.selfcheck [MODELS_DIR]     # exit 0: it does; 1: it crashed or failed (one line why)

llama.cpp built with `-march=native` (pip's default) died of a segmentation fault at the first prompt longer than
one token on a Xeon with AVX-512 and AMX; the same source built for AVX2 ran there, at about half the speed of a
native build on the machine before. `make install` keeps the fast native build where it works: it runs this check
and, only when the check fails, builds llama.cpp again for AVX2 (`LLAMA_FALLBACK_CMAKE_ARGS` in the Makefile). The
prompt is read in a child process, so a crash is reported instead of taking the check down with it.
"""

import subprocess
import sys
from pathlib import Path

_CHILD = ("import sys; from pathlib import Path; from assistant.llm.selfcheck import read_a_prompt; "
          "read_a_prompt(Path(sys.argv[1]))")
PROMPT = b"How many building permits were issued in 2024, by district? SELECT district, count(*) FROM permits"


def read_a_prompt(models_dir: Path) -> None:
    """Load the bundled model and read a prompt of a few dozen tokens in one batch (what crashed)."""
    from llama_cpp import Llama

    from assistant.llm.model_file import verified_model

    model = Llama(model_path=str(verified_model(models_dir)), n_ctx=256, n_threads=2, verbose=False)
    model.eval(model.tokenize(PROMPT, add_bos=True))


def check(models_dir: Path) -> tuple[bool, str]:
    """(works, one line saying so or why not)."""
    child = subprocess.run([sys.executable, "-c", _CHILD, str(models_dir)], capture_output=True, text=True, check=False)
    if child.returncode == 0:
        return True, "llama.cpp reads a prompt with the bundled model on this CPU"
    if child.returncode < 0:
        return False, (f"llama.cpp died of signal {-child.returncode} reading a prompt on this CPU "
                       "(a build for another CPU?)")
    lines = [line for line in child.stderr.splitlines() if line.strip()]
    return False, f"llama.cpp could not read a prompt: {lines[-1] if lines else f'exit {child.returncode}'}"


def main(argv: list[str]) -> int:
    from core.settings import Settings

    models_dir = Path(argv[0]) if argv else Settings().home / "models"
    works, line = check(models_dir)
    print(line, file=sys.stdout if works else sys.stderr)
    return 0 if works else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
