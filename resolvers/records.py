"""Shared resolver helpers: the errors a resolver refuses with (bad input, forbidden, rate limited)."""

from __future__ import annotations

from graphql import GraphQLError


def bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


def forbidden(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})


def rate_limited(retry_after_seconds: int) -> GraphQLError:
    """Too many look-ups found nothing: the same refusal whatever this one would have found."""
    return GraphQLError(
        f"too many look-ups found nothing in the last minute; try again in {retry_after_seconds} s",
        extensions={"code": "RATE_LIMITED", "retryAfter": retry_after_seconds},
    )
