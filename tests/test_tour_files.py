"""docs/tour/ is the journey test's screenshots: one per `tour.step` of
tests/browser/test_journey.py, in its order, each with its caption in the tour's README.

The journey writes them only when asked (SWASTH_TOUR_DIR=docs/tour); this fails when a step was
added, renamed or reordered without regenerating the tour, or when the README stopped linking
to it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOUR = ROOT / "docs" / "tour"
_STEP = re.compile(r'tour\.step\(\s*\w+,\s*"([^"]+)",\s*"([^"]+)"\s*\)')


def _journey_steps() -> list[tuple[str, str]]:
    source = (ROOT / "tests" / "browser" / "test_journey.py").read_text()
    steps = _STEP.findall(source)
    assert len(steps) == source.count("tour.step("), "a tour.step call this test cannot read"
    return steps


def test_every_step_of_the_journey_has_its_screenshot_and_caption_in_order():
    index = (TOUR / "README.md").read_text()
    steps = _journey_steps()

    assert steps
    for number, (name, caption) in enumerate(steps, start=1):
        filename = f"{number:02d}-{name}.png"
        assert (TOUR / filename).is_file(), filename
        assert f"{number}. {caption}\n\n   ![{caption}]({filename})" in index, filename
    assert sorted(path.name for path in TOUR.glob("*.png")) == [
        f"{number:02d}-{name}.png" for number, (name, _caption) in enumerate(steps, start=1)
    ]


def test_the_readme_links_to_the_tour():
    assert "(docs/tour/README.md)" in (ROOT / "README.md").read_text()
