"""The helper hello.py imports: how to greet someone."""


def greeting(name):
    return f"Hello, {name}!"
