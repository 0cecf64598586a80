"""Start the fake IBC launcher without importing the traderctl package root.

``traderctl/__init__.py`` pulls in traderctl's own dependencies; the
simulator is stdlib-only, so a bare namespace module stands in for the
package root and only ``traderctl.simulator`` is imported.
"""

import sys
import types
from pathlib import Path

if "traderctl" not in sys.modules:
    root = types.ModuleType("traderctl")
    root.__path__ = [str(Path(__file__).resolve().parents[3] / "supervisor" / "traderctl")]
    sys.modules["traderctl"] = root

from traderctl.simulator.fake_ibc import main

sys.exit(main())
