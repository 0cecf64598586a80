"""What IBC's output says, in IBC 3.24's own words.

IBC's Java side writes ``yyyy-MM-dd HH:mm:ss:SSS IBC: <text>`` (``Utils``);
its start script ``ibcstart.sh`` echoes plain lines with no prefix. Both reach
the service's stdout, so :func:`classify` looks at every line, prefixed or
not. Each pattern below names the IBC source that prints it (IbcAlpha/IBC at
3.24.1, ``src/ibcalpha/ibc/`` for the Java classes).

The texts are matched, not their timestamps or numbers, and nothing here
decides what to do: :mod:`traderctl.tws.login` and the driver do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (kind, pattern, where IBC prints it); the first match wins
_LINES: list[tuple[str, str, str]] = [
    # LoginManager.setLoginState(TWO_FA_IN_PROGRESS): once per prompt
    ("second_factor_pending", r"Second Factor Authentication initiated",
     "LoginManager.java"),
    # LoginManager.secondFactorAuthenticationDialogClosed(): the prompt closed unanswered
    ("second_factor_timeout",
     r"Re-login after second factor authentication timeout (in (?P<n>\d+) second|not required)",
     "LoginManager.java"),
    # ... or answered: IBC now gives the login SecondFactorAuthenticationExitInterval seconds
    ("second_factor_acknowledged",
     r"If login has not completed, IBC will exit in (?P<n>\d+) seconds", "LoginManager.java"),
    ("second_factor_duration", r"Duration since login: (?P<n>\d+) seconds", "LoginManager.java"),
    # TwsListener logs every window event; the title tells the two dialogs apart
    ("dialog_second_factor",
     r"(dialog|frame) entitled: (?P<title>Second Factor Authentication|Security Code Card "
     r"Authentication); event=(?P<event>\w+)", "TwsListener.java"),
    # LoginManager.setLoginState(LOGGED_IN)
    ("logged_in", r"Login has completed", "LoginManager.java"),
    # LoginFailedDialogHandler, LoginErrorDialogHandler, TooManyFailedLoginAttemptsDialogHandler
    ("login_failed", r"IBC: Login failed\s*$", "LoginFailedDialogHandler.java"),
    ("login_error", r"Login error message:", "LoginErrorDialogHandler.java"),
    ("login_locked", r"Too many failed login attempts",
     "TooManyFailedLoginAttemptsDialogHandler.java"),
    # SessionManager.startSession(): a cold start (full login) or a restart (-Drestart)
    ("session_cold", r"Starting session: will exit if login dialog", "SessionManager.java"),
    ("session_restart", r"IBC: Re-starting session", "SessionManager.java"),
    # IbcTws.startShutdownTimerIfRequired(): the Sunday ColdRestartTime
    ("cold_restart_at",
     r"(TWS|Gateway) will be cold restarted at (?P<at>\d{4}/\d\d/\d\d \d\d:\d\d)", "IbcTws.java"),
    # ibcstart.sh, the script's own restart loop (no "IBC:" prefix)
    ("ibc_exit", r"^IBC returned exit status (?P<n>\d+)", "resources/scripts/ibcstart.sh"),
    ("autorestart_found", r"^autorestart file found at ", "resources/scripts/ibcstart.sh"),
    ("cold_restart_soon", r"^IBC will cold-restart shortly", "resources/scripts/ibcstart.sh"),
    ("ibc_version", r"^Starting IBC version (?P<version>\d+\.\d+(\.\d+)?)",
     "resources/scripts/ibcstart.sh"),
]
_COMPILED = [(kind, re.compile(pattern), source) for kind, pattern, source in _LINES]
_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3} ")


@dataclass(frozen=True)
class IbcLine:
    """One recognised line: its kind, the captured fields and the IBC source it comes from."""

    kind: str
    fields: dict[str, str]
    source: str
    text: str

    def number(self) -> int | None:
        value = self.fields.get("n")
        return int(value) if value else None


def classify(line: str) -> IbcLine | None:
    """The recognised meaning of one output line of IBC, or None."""
    text = _PREFIX.sub("", line.strip())
    for kind, pattern, source in _COMPILED:
        match = pattern.search(text)
        if match:
            fields = {k: v for k, v in match.groupdict().items() if v is not None}
            return IbcLine(kind, fields, source, text)
    return None


def sources() -> dict[str, str]:
    """Kind -> IBC source file, for the documentation and the tests."""
    return {kind: source for kind, _, source in _LINES}


# ibcstart.sh's own exit codes, then IBC's Java ErrorCodes (1100-1112) modulo 256, then
# the SIGTERM the script forwards to java (128 + 15)
EXIT_CODES: dict[int, str] = {
    1: "no java found (E_NO_JAVA)",
    2: "TWS major version not given (E_NO_TWS_VERSION)",
    3: "invalid argument (E_INVALID_ARG)",
    4: "this TWS version is not installed (E_TWS_VERSION_NOT_INSTALLED)",
    5: "IBC path or TWS settings path does not exist (E_IBC_PATH_NOT_EXIST)",
    6: "config.ini does not exist (E_IBC_INI_NOT_EXIST)",
    7: "TWS vmoptions file not found (E_TWS_VMOPTIONS_NOT_FOUND)",
    8: "unknown operating system (E_UNKNOWN_OPERATING_SYSTEM)",
    76: "unhandled exception in IBC (UNHANDLED_EXCEPTION)",
    77: "IBC could not find a control in a TWS window (CANT_FIND_CONTROL)",
    78: "wrong number of arguments to IBC (INCORRECT_NUMBER_OF_ARGS)",
    79: "config.ini does not exist (INI_FILE_DOES_NOT_EXIST)",
    80: "invalid trading mode (INVALID_TRADING_MODE)",
    81: "invalid setting value in config.ini (INVALID_SETTING_VALUE)",
    82: "cannot create the TWS settings directory (CANT_CREATE_TWS_SETTINGS_DIR)",
    83: "TWS entry point not found (CANT_FIND_ENTRYPOINT)",
    84: "invalid jts.ini path (INVALID_JTSINI_PATH)",
    85: "I/O error on jts.ini (IO_EXCEPTION_ON_JTSINI)",
    86: "IBC in an invalid state (INVALID_STATE)",
    87: "second factor acknowledged but login not completed within "
        "SecondFactorAuthenticationExitInterval (SECOND_FACTOR_AUTH_LOGIN_TIMED_OUT)",
    143: "terminated by SIGTERM",
}
# codes after which ibcstart.sh starts IBC again itself (they never end the launcher)
RETURNED_ONLY: dict[int, str] = {
    88: "login dialog not displayed within LoginDialogDisplayTimeout "
        "(LOGIN_DIALOG_DISPLAY_TIMED_OUT); the script starts IBC again",
}
# retrying cannot fix these: the installation or the configuration is wrong
PERMANENT_EXIT_CODES = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 78, 79, 80, 81, 82, 83, 84})
