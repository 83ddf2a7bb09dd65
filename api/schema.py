"""OpenAPI: the key scheme, and the problem responses every operation may give, declared once."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["type", "title", "status"],
    "additionalProperties": True,
}
PROBLEM_STATUSES = {
    "400": "Invalid request (field errors in `errors`)",
    "401": "No, unknown, revoked or expired key",
    "403": "The key's scopes do not allow this",
    "404": "No such object in the key's brand",
    "405": "Method not allowed",
    "409": "Conflict with the object's state",
    "413": "The body is larger than the server takes",
    "422": "Idempotency-Key reused with another body",
    "429": "Rate limit or daily quota exceeded (see Retry-After)",
}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API key made in Settings: srz_…"}


def add_problem_responses(result, generator, request, public):
    """Postprocessing hook: every operation answers problems in one documented shape."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    ref = {"$ref": "#/components/schemas/Problem"}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for code, description in PROBLEM_STATUSES.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/problem+json": {"schema": ref}}}
                )
            responses.setdefault(
                "500", {"description": "Server error", "content": {"application/problem+json": {"schema": ref}}}
            )
    return result
