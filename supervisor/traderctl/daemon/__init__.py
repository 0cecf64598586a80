"""The supervisor daemon: service runners, control socket, events, systemd integration."""
