"""The core's own exceptions. Only the CLI turns them into a message and an exit code."""


class TutorError(Exception):
    """Base class: a problem with the user's input, explained in one line."""


class NetworkError(TutorError):
    """A network file (or dictionary) is malformed."""


class AnswerFormatError(TutorError):
    """Text that is not a well-formed answer or expression; it costs no attempt."""


class TemplateError(TutorError):
    """A problem template is malformed."""
