#!/usr/bin/env python3
"""Generates the tiny training fixtures: paraphrase pairs built from templates with
synonyms, so a model can learn that 'a dog runs in the park' ~ 'the puppy is running
through the garden'. Deterministic (seed 7). Run: python3 make_fixtures.py"""
import random

rng = random.Random(7)
subjects = [["a dog", "the puppy", "a hound"], ["a man", "the guy", "a gentleman"],
            ["a woman", "the lady", "a girl"], ["a child", "the kid", "a little boy"],
            ["a cat", "the kitten", "a small cat"], ["two birds", "a pair of birds", "the birds"],
            ["a chef", "the cook", "a baker"], ["a horse", "the pony", "a stallion"]]
verbs = [["runs in", "is running through", "jogs across"], ["sleeps in", "is sleeping in", "naps in"],
         ["plays in", "is playing in", "has fun in"], ["walks into", "is walking into", "strolls into"],
         ["sits in", "is sitting in", "rests in"], ["looks at", "is watching", "stares at"]]
places = [["the park", "the garden", "a green park"], ["the kitchen", "a kitchen", "the cooking room"],
          ["the snow", "the white snow", "deep snow"], ["the river", "a stream", "the water"],
          ["the city", "a busy town", "the streets"], ["the house", "a home", "the building"]]

def sentence(s, v, p, k):
    return f"{subjects[s][k[0]]} {verbs[v][k[1]]} {places[p][k[2]]}"

combos = [(s, v, p) for s in range(len(subjects)) for v in range(len(verbs)) for p in range(len(places))]
rng.shuffle(combos)
train, held = combos[:200], combos[200:260]

def pair(c):
    a = [rng.randrange(3) for _ in range(3)]
    b = [(x + 1 + rng.randrange(2)) % 3 for x in a]
    return sentence(*c, a), sentence(*c, b)

with open("pairs.tsv", "w") as f:
    for c in train:
        f.write("\t".join(pair(c)) + "\n")
with open("heldout.pairs.tsv", "w") as f:
    for c in held:
        f.write("\t".join(pair(c)) + "\n")
with open("triplets.tsv", "w") as f:
    for c in train[:80]:
        a, p = pair(c)
        other = (c[0], c[1], (c[2] + 1) % len(places))
        f.write(f"{a}\t{p}\t{sentence(*other, [0, 0, 0])}\n")
with open("labeled.tsv", "w") as f:
    for c in train[:60]:
        a, p = pair(c)
        f.write(f"1\t{a}\t{p}\n")
        other = ((c[0] + 1) % len(subjects), (c[1] + 2) % len(verbs), (c[2] + 3) % len(places))
        f.write(f"0\t{a}\t{sentence(*other, [0, 1, 2])}\n")
with open("sts.tsv", "w") as f:
    for c in held[:40]:
        a, p = pair(c)
        f.write(f"5.0\t{a}\t{p}\n")
        half = (c[0], c[1], (c[2] + 1) % len(places))
        f.write(f"2.5\t{a}\t{sentence(*half, [0, 0, 0])}\n")
        far = ((c[0] + 3) % len(subjects), (c[1] + 3) % len(verbs), (c[2] + 3) % len(places))
        f.write(f"0.0\t{a}\t{sentence(*far, [1, 1, 1])}\n")
