"""A command described once: click builds its ``--help`` and completion from it, and the
fast path parses its arguments without importing click.

The commands that only talk to the running supervisor (``status``, ``start``, ``logs`` ...)
are :class:`CommandSpec` objects: their doc is the one source of their help text and of
the short help ``traderctl --help`` lists, and :func:`parse_fast` reads the common forms of
their arguments in microseconds. Anything it does not understand (``--help``, an unknown
option, a missing argument) returns None, and click handles the command line instead.
"""

from __future__ import annotations

TYPE_CHECKING = False  # as typing.TYPE_CHECKING (mypy knows the name), without importing typing


if TYPE_CHECKING:  # plain classes, no dataclasses and no typing at run time: import cost
    from collections.abc import Callable
    from typing import Any

    import click

    from traderctl.cli.target import Target


class Opt:
    """An option (``flags`` given) or a positional argument (``flags`` empty)."""

    def __init__(self, name: str, flags: tuple[str, ...] = (), kind: type = str,
                 default: Any = None, help: str = "", many: bool = False,
                 required: bool = False, metavar: str | None = None,
                 completion: Callable[[Target, str], list[str]] | None = None,
                 choices: tuple[str, ...] = (), minimum: int | None = None) -> None:
        self.name = name
        self.flags = flags
        self.kind = kind
        self.default = default
        self.help = help
        self.many = many  # positional: any number; option: repeatable
        self.required = required
        self.metavar = metavar
        self.completion = completion
        self.choices = choices  # str options: one of these
        self.minimum = minimum  # int options: at least this

    @property
    def positional(self) -> bool:
        return not self.flags


class CommandSpec:
    def __init__(self, name: str, doc: str, run: Callable[..., int | None],
                 opts: tuple[Opt, ...] = ()) -> None:
        self.name = name
        self.doc = doc
        self.run = run  # run(target, **options) -> exit code
        self.opts = opts

    @property
    def short_help(self) -> str:
        return " ".join(self.doc.strip().split("\n\n")[0].split())


def parse_fast(spec: CommandSpec, argv: list[str]) -> dict[str, Any] | None:
    """The keyword arguments of ``spec.run``, or None when click should parse instead."""
    by_flag = {flag: opt for opt in spec.opts for flag in opt.flags}
    positionals = [opt for opt in spec.opts if opt.positional]
    values: dict[str, Any] = {o.name: [] if o.many else o.default for o in spec.opts}
    free: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            free.extend(args)
            break
        if not arg.startswith("-") or arg == "-":
            free.append(arg)
            continue
        flag, eq, inline = arg.partition("=")
        opt = by_flag.get(flag)
        if opt is None or (opt.kind is bool and eq):
            return None
        if opt.kind is bool:
            values[opt.name] = True
            continue
        text = inline if eq else next(args, None)
        if text is None or (value := _convert(opt, text)) is None:
            return None
        if opt.many:
            values[opt.name].append(value)
        else:
            values[opt.name] = value
    if not _assign_positionals(positionals, free, values):
        return None
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def _assign_positionals(positionals: list[Any], free: list[str], values: dict[str, Any]
                        ) -> bool:
    """Hand the free words to the positional options; False when they don't fit."""
    for opt in positionals:
        if opt.many:
            values[opt.name], free = free, []
        elif free:
            values[opt.name] = free.pop(0)
        if opt.required and not values[opt.name]:
            return False
    return not free


def _convert(opt: Opt, text: str) -> Any:
    """The value, or None when it is not one ``opt`` takes (click then says why)."""
    try:
        value = opt.kind(text)
    except ValueError:
        return None
    if (opt.choices and value not in opt.choices) or (
            opt.minimum is not None and value < opt.minimum):
        return None
    return value


def to_click(spec: CommandSpec) -> click.Command:
    """The click command: same doc, same options, same ``run``."""
    import click

    from traderctl.cli.app import App

    def callback(**kwargs: Any) -> None:
        app = click.get_current_context().find_object(App)
        assert app is not None
        code = spec.run(app.target(), **kwargs)
        raise click.exceptions.Exit(code or 0)

    return click.Command(spec.name, callback=callback, help=spec.doc,
                         short_help=spec.short_help, params=[_param(o) for o in spec.opts])


def _param(opt: Opt) -> click.Parameter:
    import click

    complete = _completer(opt.completion) if opt.completion else None
    if opt.positional:
        return click.Argument([opt.name], nargs=-1 if opt.many else 1,
                              required=opt.required, metavar=opt.metavar,
                              shell_complete=complete)
    if opt.kind is bool:
        return click.Option([*opt.flags, opt.name], is_flag=True, help=opt.help)
    return click.Option([*opt.flags, opt.name], type=_click_type(opt), default=opt.default,
                        multiple=opt.many, help=opt.help, show_default=opt.default is not None,
                        metavar=opt.metavar, shell_complete=complete)


def _click_type(opt: Opt) -> Any:
    import click

    if opt.choices:
        return click.Choice(opt.choices)
    if opt.minimum is not None:
        return click.IntRange(min=opt.minimum)
    return opt.kind


def _completer(source: Callable[[Target, str], list[str]]) -> Callable[..., list[Any]]:
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        from traderctl.cli.app import App
        from traderctl.cli.target import Flag, Target

        app = ctx.find_object(App)
        if app is None:
            return []
        # while completing, the group's callback has not run: read its options from here
        params = ctx.find_root().params
        flags = [Flag("supervisor.socket", params["socket"], "flag:--socket")] \
            if params.get("socket") else []
        try:
            found = source(Target(params.get("config_path"), app.env, flags), incomplete)
        except Exception:  # completion must never print a traceback into the shell
            return []
        return [CompletionItem(v) for v in found if v.startswith(incomplete)]
    return complete
