"""Response model of ``GET /v1/api-key``: what the key in use is allowed to do."""

from __future__ import annotations

from attrs import define, field

from ._base import WireModel

__all__ = ["APIKeyInfo"]


@define
class APIKeyInfo(WireModel):
    """The API key in use: its name, team, permissions and state.

    The server never sends the secret itself, only ``redacted_api_key`` (e.g.
    ``xa***yz``). Timestamps are the strings the server sends (ISO 8601).
    """

    redacted_api_key: str = ""
    name: str = ""
    team_id: str = ""
    user_id: str | None = None
    api_key_id: str | None = None
    #: Permissions, e.g. ``api-key:model:*`` and ``api-key:endpoint:*``.
    acls: list[str] = field(factory=list)
    team_blocked: bool = False
    api_key_blocked: bool = False
    api_key_disabled: bool = False
    create_time: str | None = None
    modify_time: str | None = None
    modified_by: str | None = None
    #: The ``x-request-id`` of the response; set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)

    @property
    def usable(self) -> bool:
        """False when the key, or its whole team, is blocked or disabled."""
        return not (self.team_blocked or self.api_key_blocked or self.api_key_disabled)
