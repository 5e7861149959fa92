"""A PyTorch program's source with its imports changed to flambeau's, and nothing else: the
promise flambeau makes to PyTorch users, checked by running their programs both ways."""

from __future__ import annotations

import re
import textwrap

__all__ = ["port_torch_program"]

# torch.X is flambeau.X and torchvision.X is flambeau.vision.X (DESIGN.md: names follow
# PyTorch's), so one prefix table covers every submodule.
_PREFIXES = {"torchvision": "flambeau.vision", "torch": "flambeau"}
_MODULE = r"(?P<module>(?:torchvision|torch)(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
_FROM = re.compile(rf"^(?P<indent>\s*)from\s+{_MODULE}(?P<rest>\s+import\b.*)$")
_IMPORT = re.compile(r"^(?P<indent>\s*)import\s+(?P<names>[^#]*?)(?P<comment>\s*(?:#.*)?)$")
_ALIAS = re.compile(rf"^{_MODULE}(?:\s+as\s+(?P<alias>[A-Za-z_][A-Za-z0-9_]*))?$")
_LEFT = re.compile(r"^\s*(?:import|from)\s+torch(?:vision)?\b")


def _flambeau_module(module: str) -> str:
    top, dot, rest = module.partition(".")
    return _PREFIXES[top] + dot + rest


def _port_alias(item: str) -> str:
    match = _ALIAS.match(item.strip())
    if match is None:
        return item.strip()
    module, alias = match["module"], match["alias"]
    ours = _flambeau_module(module)
    if alias is not None:
        return f"{ours} as {alias}"
    top = module.partition(".")[0]
    if module == top:  # `import torch`: the program goes on using the name `torch`
        return f"{ours} as {top}"
    # `import torch.nn` binds `torch` and loads torch.nn: load flambeau.nn, bind torch to it
    return f"{ours}, {_PREFIXES[top]} as {top}"


def _port_line(line: str) -> str:
    match = _FROM.match(line)
    if match is not None:
        return f"{match['indent']}from {_flambeau_module(match['module'])}{match['rest']}"
    match = _IMPORT.match(line)
    if match is None or not re.search(r"\btorch(?:vision)?\b", match["names"]):
        return line
    names = ", ".join(_port_alias(item) for item in match["names"].split(","))
    return f"{match['indent']}import {names}{match['comment']}"


def port_torch_program(source: str) -> str:
    """``source``, a PyTorch program, with each import of ``torch`` or ``torchvision``
    changed into the same import from flambeau; every other line is left as it is, so line
    numbers in tracebacks are the program's own.

    ``torch.X`` becomes ``flambeau.X`` and ``torchvision.X`` becomes ``flambeau.vision.X``;
    an import that binds the name ``torch`` (``import torch``, ``import torch.nn``) binds it
    to ``flambeau``, so the rest of the program runs unchanged. Imports inside functions are
    changed too. The source is dedented first, so a program may be an indented string.

    Raises
    ------
    ValueError
        When an import of torch is left that this function cannot rewrite (one continued
        over several lines with a backslash, or two statements on one line).

    Examples
    --------
    >>> from flambeau.testing import port_torch_program
    >>> print(port_torch_program('''
    ...     import torch
    ...     import torch.nn.functional as F
    ...     from torch.utils.data import DataLoader
    ...     from torchvision import transforms
    ...     x = torch.ones(2)  # torch stays torch here
    ... '''))
    <BLANKLINE>
    import flambeau as torch
    import flambeau.nn.functional as F
    from flambeau.utils.data import DataLoader
    from flambeau.vision import transforms
    x = torch.ones(2)  # torch stays torch here
    <BLANKLINE>
    """
    lines = textwrap.dedent(source).split("\n")
    ported = [_port_line(line) for line in lines]
    for line, new in zip(lines, ported):
        if _LEFT.match(new) or (new != line and line.rstrip().endswith("\\")):
            line = line.strip()
            raise ValueError(f"port_torch_program: cannot rewrite the import {line!r}; write it "
                             "as one import statement on one line")
    return "\n".join(ported)
