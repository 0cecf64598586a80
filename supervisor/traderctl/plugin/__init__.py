"""The plugin host: the hook contract, the manager that loads plugins, entry-point discovery.

Read in this order: :mod:`.spec` (every hook: who calls it, when, how often, what it returns),
:mod:`.manager` (built-ins, then entry points; how hooks are called and failures isolated),
:mod:`.entrypoints` (the cached entry-point scan), :mod:`.sections` (the config sections
plugins declare). Plugin authors need only ``from traderctl import hookimpl``.
"""
