"""OpenAPI additions: the error answers every integration must handle, documented once."""

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Each field in error with its messages; `non_field_errors` for the body as a whole.",
    "additionalProperties": True,
}

ERRORS = {
    "400": ("ValidationError", "Bad input: the fields in error and why."),
    "401": ("Error", "Not authenticated: log in or send `Authorization: Token <key>`."),
    "403": ("Error", "Authenticated, but the role does not allow this."),
    "404": ("Error", "No such object, or no such page of results."),
    "409": ("Error", "The request conflicts with the object's state (e.g. still referenced, already finished)."),
}


def _answer(component: str, description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the error responses each operation can give."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    schemas.setdefault("ValidationError", VALIDATION_ERROR_SCHEMA)
    for path, operations in result.get("paths", {}).items():
        if path.startswith("/api/schema") or path.startswith("/api/auth/"):
            continue
        for method, operation in operations.items():
            codes = {"401", "403"}
            if "{" in path or method == "get":
                codes.add("404")  # an unknown id, or a page past the end of a list
            if method in ("post", "put", "patch") or (method == "get" and "{" not in path):
                codes.add("400")  # a bad body, or a bad filter value
            if method == "delete" or path.endswith("/cancel/"):
                codes.add("409")
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(code, _answer(*ERRORS[code]))
    return result
