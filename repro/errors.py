"""The one exception type that the command line turns into a one-line message and exit code 2."""


class ReproError(Exception):
    """A problem the user can fix (bad input, missing data, corrupt file).

    The message must be a single line that says what is wrong and what to do.
    """


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message (messages of libraries can run to pages), or its type name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class MissingComponent(ReproError):
    """A package, model or data file this machine has not installed or prepared (``make install model data``).

    Tests skip on this one only (locally; CI fails): any other error is a bug, never a skip.
    """
