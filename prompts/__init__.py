"""Prompt templates as versioned text files; no prompt strings are buried in code.

A template file `NAME.txt` starts with a header line `# inputs: a, b` naming its inputs; the body uses
`{a}` placeholders. `render` refuses missing or unexpected inputs so a template and its caller cannot drift.
"""

import re
import string
from dataclasses import dataclass
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent
_HEADER = re.compile(r"^#\s*inputs:\s*(.*)$")


@dataclass(frozen=True)
class Prompt:
    name: str
    inputs: tuple[str, ...]
    body: str

    def render(self, **values: str) -> str:
        given, declared = set(values), set(self.inputs)
        if given != declared:
            raise ValueError(f"prompt {self.name!r} needs inputs {sorted(declared)}, got {sorted(given)}")
        return self.body.format(**values)


def load_prompt(name: str, folder: Path = PROMPTS_DIR) -> Prompt:
    """Read `folder/NAME.txt`; its placeholders must be exactly the declared inputs."""
    text = (folder / f"{name}.txt").read_text(encoding="utf-8")
    first, _, body = text.partition("\n")
    header = _HEADER.match(first)
    if header is None:
        raise ValueError(f"prompt {name!r} must start with '# inputs: ...'")
    inputs = tuple(part.strip() for part in header.group(1).split(",") if part.strip())
    used = {field for _, field, _, _ in string.Formatter().parse(body) if field}
    if used != set(inputs):
        raise ValueError(f"prompt {name!r} declares {sorted(inputs)} but uses {sorted(used)}")
    return Prompt(name, inputs, body)
