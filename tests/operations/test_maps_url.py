"""Coordinates from the Google Maps URLs operators paste."""

import pytest

from hub.errors import BadRequest
from hub.operations.maps_url import coordinates, is_short_link


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.google.com/maps/place/Av.+Paulista,+1578/@-23.5613,-46.6565,17z/"
            "data=!3m1!4b1!4m6!3m5!1s0x94ce59c8da0aa315:0xd59f9431f2c9776a!8m2!3d-23.5614!"
            "4d-46.6559",
            (-23.5614, -46.6559),
        ),
        ("https://www.google.com/maps/@-22.9068,-43.1729,15z", (-22.9068, -43.1729)),
        ("https://maps.google.com/?q=-23.55,-46.63", (-23.55, -46.63)),
        (
            "https://www.google.com/maps/search/?api=1&query=-15.7939%2C-47.8828",
            (-15.7939, -47.8828),
        ),
        ("https://maps.google.com/maps?ll=-30.0346,-51.2177&z=14", (-30.0346, -51.2177)),
        ("https://www.google.com/maps/dir/?api=1&destination=-8.0476,-34.877", (-8.0476, -34.877)),
        ("https://www.google.com.br/maps/@-3.7319,-38.5267,12z", (-3.7319, -38.5267)),
    ],
)
def test_every_form_gives_the_coordinates(url, expected):
    assert coordinates(url) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://example.com/@-23.5,-46.6,10z", "not a Google Maps URL"),
        ("ftp://www.google.com/maps/@-23.5,-46.6", "not a Google Maps URL"),
        ("https://www.google.com/maps/place/Av.+Paulista", "no coordinates"),
        ("https://maps.google.com/?q=Avenida+Paulista", "no coordinates"),
        ("https://www.google.com/maps/@-95.0,-46.6,10z", "out of range"),
        ("https://maps.app.goo.gl/AbCdEf123", "resolved"),
        ("https://goo.gl/maps/xyz", "resolved"),
    ],
)
def test_unusable_urls_are_refused_with_the_reason(url, message):
    with pytest.raises(BadRequest, match=message):
        coordinates(url)


def test_short_links_are_recognised():
    assert is_short_link("https://maps.app.goo.gl/AbCdEf123")
    assert is_short_link("https://goo.gl/maps/xyz")
    assert not is_short_link("https://www.google.com/maps/@-23.5,-46.6,10z")
