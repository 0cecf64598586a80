"""The plugin host: the hook contract, the manager that loads plugins, entry-point discovery.

Read in this order: :mod:`.spec` (every hook: who calls it, when, how often, what it returns),
:mod:`.manager` (built-ins, then entry points; how hooks are called and failures isolated),
:mod:`.entrypoints` (the cached entry-point scan), :mod:`.registry` (the service types and
probe kinds plugins registered, by name), :mod:`.sections` (the full config schema, with the
sections plugins declare), :mod:`.checktypes` (the check model ``register_checks`` names).
Plugin authors need only ``from traderctl import hookimpl``.

The plugin host stands on ``config/`` and ``services/`` (whose types the hooks name) and
below everything that uses plugins (``cli/``, ``checks/``, ``daemon/``, the built-ins): the
hook spec names no type of a package above it (``register_commands`` gets a
:class:`.spec.CommandGroup`, the calls a plugin makes on the CLI's group).
"""
