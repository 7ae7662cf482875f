#!/usr/bin/env python3
"""Writes tiny_corpus.txt: 400 varied, deterministic English sentences.

Subjects, verbs and objects are combined with a fixed seed, with some
punctuation, numbers, questions and a few non-ASCII words (café, naïve, ...)
so the trained tokenizer sees more than lowercase ASCII.
Usage: python3 make_tiny_corpus.py > tiny_corpus.txt
"""
import random

rng = random.Random(20240517)

subjects = [
    "The old man", "A young girl", "My brother", "The teacher", "Our neighbour",
    "The little dog", "A tired farmer", "The king", "Her mother", "The students",
    "Two children", "The captain", "A quiet woman", "The baker", "Every soldier",
    "The doctor", "His friend", "The cat", "A stranger", "The shepherd",
]
verbs = [
    "walked to", "looked at", "painted", "carried", "found", "opened", "cleaned",
    "bought", "sold", "visited", "remembered", "forgot", "watched", "followed",
    "built", "wrote about", "talked about", "dreamed of", "returned to", "left",
]
objects = [
    "the river", "a small house", "the market", "the green hills", "an old book",
    "the wooden door", "the city gate", "a basket of bread", "the long road",
    "the quiet garden", "a letter from home", "the school", "the tall tower",
    "the dark forest", "a cup of tea", "the morning train", "the harbour",
    "the empty field", "a red apple", "the village well",
]
times = [
    "in the morning", "at night", "yesterday", "last summer", "every day",
    "before dinner", "after the rain", "on Sunday", "in winter", "at noon",
]
non_ascii = [
    "café", "naïve", "résumé", "façade", "jalapeño", "über", "coöperate",
    "crème brûlée", "São Paulo", "Zürich", "piñata", "déjà vu",
]
questions = [
    "Where did {s} go?", "Why is {o} so far away?", "Who {v} {o}?",
    "Did {s} really see {o}?", "How many people {v} {o}?",
]


def lower_first(phrase):
    return phrase[0].lower() + phrase[1:]


lines = []
for i in range(400):
    s, v, o = rng.choice(subjects), rng.choice(verbs), rng.choice(objects)
    kind = i % 8
    if kind == 0:
        line = f"{s} {v} {o} {rng.choice(times)}."
    elif kind == 1:
        line = f"{s} {v} {o}, and then {lower_first(rng.choice(subjects))} {rng.choice(verbs)} {rng.choice(objects)}."
    elif kind == 2:
        line = rng.choice(questions).format(s=lower_first(s), v=v, o=o)
    elif kind == 3:
        n = rng.randint(2, 1999)
        line = f"{s} {v} {o} {n} times!"
    elif kind == 4:
        w = rng.choice(non_ascii)
        line = f"{s} {v} {o} near the {w}; it felt {rng.choice(['naïve', 'strange', 'warm', 'new'])}."
    elif kind == 5:
        line = f"\"{s} {v} {o},\" she said, \"{rng.choice(times)}.\""
    elif kind == 6:
        line = f"In {rng.randint(1800, 2030)}, {lower_first(s)} {v} {o} (about {rng.randint(1, 99)}.{rng.randint(0, 9)} km away)."
    else:
        line = f"{s} {v} {o}: {rng.choice(['yes', 'no', 'maybe'])} - {rng.choice(times)}."
    lines.append(line)

print("\n".join(lines))
