"""Every API error is one shape (RFC 9457), nested field errors flattened to dotted names a client can show."""

from rest_framework.exceptions import ValidationError

from api.problems import exception_handler


def test_nested_field_errors_name_their_item():
    response = exception_handler(ValidationError({"events": {1: ["not a known event"]}, "name": ["required"]}), {})
    body = response.data
    assert response.content_type == "application/problem+json" and body["status"] == 400
    assert body["errors"] == {"events.1": ["not a known event"], "name": ["required"]}


def test_items_of_a_list_of_objects_keep_their_index():
    detail = [{}, {"serial": ["bad character"]}]
    assert exception_handler(ValidationError({"lines": detail}), {}).data["errors"] == {
        "lines.1.serial": ["bad character"]
    }


def test_an_unexpected_error_is_a_500_problem_without_detail_of_ours():
    response = exception_handler(RuntimeError("secret internals"), {})
    assert response.status_code == 500 and "secret internals" not in str(response.data)


def test_a_body_over_the_limit_is_a_413_problem():
    from django.core.exceptions import RequestDataTooBig

    response = exception_handler(RequestDataTooBig("too big"), {})
    assert response.status_code == 413 and response.content_type == "application/problem+json"
