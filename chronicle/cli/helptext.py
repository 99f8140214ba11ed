"""Option help that reads the same everywhere: flags show no type, every option its default.

Applied once to the built command tree (`document_options`), so options added later get the
same treatment without repeating it in each declaration. An option states its own default with
`show_default="…"` or in its help text ("default: …"); otherwise the value is shown, a flag
shows on/off, an option without a value shows "none", and a required one no default.
"""

from __future__ import annotations

from typing import Any

from chronicle.config import Settings


def setting_default(*path: str) -> str:
    """`show_default` text of an option that falls back to a setting: its key and default."""
    model: Any = Settings
    for name in path[:-1]:
        model = model.model_fields[name].default_factory
    return f"setting {'.'.join(path)}: {model.model_fields[path[-1]].default}"


def _document(option: Any) -> None:
    if getattr(option, "hidden", False):
        return
    flag = bool(getattr(option, "is_flag", False)) and not getattr(option, "count", False)
    if flag:
        option.metavar = ""  # a flag takes no value: no `<bool>` beside it
    if isinstance(option.show_default, str) or "default:" in (option.help or "").lower():
        return
    if option.required:  # shown as required; a default would never apply
        option.show_default = False
        return
    if flag:
        option.show_default = "on" if option.default else "off"
    elif option.default is None:
        option.show_default = "none"
    else:
        option.show_default = True


def document_options(command: Any) -> None:
    """Apply the rules above to `command`, its help option and every subcommand."""
    for param in command.params:
        if getattr(param, "param_type_name", None) == "option":
            _document(param)
    original = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = original(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = get_help_option
    for subcommand in getattr(command, "commands", {}).values():
        document_options(subcommand)
