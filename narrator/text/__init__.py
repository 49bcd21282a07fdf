"""The text stage: a story file → a :class:`~narrator.text.script.Script` of passages.

- :mod:`~narrator.text.script`: reading (encodings, size), passages, sentences, chapters;
- :mod:`~narrator.text.frontmatter`: YAML or TOML front matter (metadata and render options);
- :mod:`~narrator.text.markup`: Markdown to plain text and chapters;
- :mod:`~narrator.text.cues`: ``[pause 3s]``, ``[scene: coast]`` and the like;
- :mod:`~narrator.text.sentences`: decoding, speech normalization, sentence splitting;
- :mod:`~narrator.text.spoken`: numbers, dates, times, abbreviations → the words said;
- :mod:`~narrator.text.abbreviations`: "Dr.", "St.", "p. 12" in full, a sentence's stop kept;
- :mod:`~narrator.text.pronunciation`: the user's pronunciation lexicon.
"""

from __future__ import annotations

from narrator.text.script import Chapter, Passage, Script, parse_story, parse_text, read_story

__all__ = ["Chapter", "Passage", "Script", "parse_story", "parse_text", "read_story"]
