"""TWS / IB Gateway through IBC as a supervised, session-aware service (the ``tws`` type).

:mod:`.servicetype` (keys and defaults), :mod:`.driver` (how it is launched,
probed and healed), :mod:`.ini` (IBC's config.ini), :mod:`.commandserver`
(IBC's command server), :mod:`.session` (API probe, observer, IBC output),
:mod:`.tz` (the TWS time zone), :mod:`.windows` (IB's reset windows).
"""
