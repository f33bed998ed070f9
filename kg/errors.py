"""Typed errors. The CLI turns each into one actionable line and an exit code."""


class KgError(Exception):
    """Base class of every error kg raises on purpose."""

    exit_code = 1


class InputError(KgError):
    """An input path or file cannot be used at all."""


class ConfigError(KgError):
    """A settings file or command-line option is wrong."""

    exit_code = 2


class OutputError(KgError):
    """An output file or folder cannot be written."""


class RuleError(KgError):
    """A rule file is malformed; the message names file, line and rule id."""


class ModelNotInstalled(KgError):
    """No pipeline is available for a language."""


class QueryError(KgError):
    """A SPARQL query is malformed or cannot be run."""

    exit_code = 2


class NothingBuilt(KgError):
    """A build read its inputs but none of them yielded an article."""
