"""The one exception type that the command line turns into a one-line message and exit code 2."""


class ReproError(Exception):
    """A problem the user can fix (bad input, missing data, corrupt file).

    The message must be a single line that says what is wrong and what to do.
    """
