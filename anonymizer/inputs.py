"""What a run processes: one file, a folder walked recursively, or a list file (@files.txt)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from anonymizer.errors import InvalidInput


@dataclass(frozen=True)
class InputFile:
    path: Path
    relative: Path  # where it sits under the input root: the output mirrors this


def collect_inputs(spec: str, output_dir: Path) -> tuple[list[InputFile], bool]:
    """The files to process, and whether this is a batch (folder or list) run."""
    if spec.startswith("@"):
        list_file = Path(spec[1:])
        try:
            lines = list_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InvalidInput(f"list file {list_file.name} cannot be read ({exc.strerror})") from None
        paths = [Path(line.strip()) for line in lines if line.strip() and not line.lstrip().startswith("#")]
        base = list_file.parent
        files = [(p if p.is_absolute() else base / p) for p in paths]
        return [InputFile(f, Path(f.name)) for f in files], True
    root = Path(spec)
    if root.exists() and not root.is_dir():
        return [InputFile(root, Path(root.name))], False
    if not root.is_dir():
        raise InvalidInput("no such file or folder")
    output = output_dir.resolve()
    found = []
    # Links to folders are not followed (a link loop would never end); they are listed,
    # like FIFOs and devices, and each run records them as skipped without opening them.
    for folder, subfolders, names in os.walk(root, followlinks=False):
        here = Path(folder)
        resolved = here.resolve()
        if resolved == output or output in resolved.parents:
            subfolders[:] = []
            continue  # never feed our own outputs back in
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        linked = [d for d in subfolders if (here / d).is_symlink()]
        subfolders[:] = [d for d in subfolders if d not in linked]
        for name in sorted(names + linked):
            if name.startswith("."):
                continue  # hidden files include our own partial writes
            path = here / name
            found.append(InputFile(path, path.relative_to(root)))
    return sorted(found, key=lambda item: item.relative), True
