"""A harmless Chaos Toolkit action for the control's tests: it only writes a file."""


def write_file(path: str) -> str:
    with open(path, "w", encoding="utf-8") as out:
        out.write("the real experiment ran\n")
    return path
