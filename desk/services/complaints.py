"""The day's complaint topics: negative mentions clustered on the model's embeddings, each cluster
named by its most distinctive words and shown with representative examples (closest to its centre).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.text import terms

Embedder = Callable[[Sequence[str]], npt.NDArray[np.float32]]


@dataclass(frozen=True, slots=True)
class ComplaintTopic:
    name: str
    size: int
    examples: tuple[str, ...]


def _name(cluster_terms: Counter[str], all_terms: Counter[str], clusters: int) -> str:
    """Words frequent in this cluster and rarer elsewhere (a class-based tf-idf)."""
    scored = {t: c * math.log(1 + clusters * c / all_terms[t]) for t, c in cluster_terms.items() if c > 1}
    best = sorted(scored, key=lambda t: (-scored[t], t))[:3]
    return ", ".join(best) if best else "(mixed)"


@dataclass(frozen=True, slots=True)
class Cluster:
    """One cluster of `texts`: its name and the indices of its members, closest to its centre first."""

    name: str
    members: tuple[int, ...]


def complaint_clusters(
    texts: Sequence[str], embed: Embedder, max_topics: int = 5, seed: int = 0
) -> list[Cluster]:
    """The clusters of `texts` (k = sqrt(n/2), at most `max_topics`), largest first. The weekly
    report clusters two weeks together and counts each cluster's members per week."""
    if len(texts) < 2:
        return [Cluster(_fallback(texts), tuple(range(len(texts))))] if texts else []
    from sklearn.cluster import KMeans

    vectors = np.asarray(embed(list(texts)), dtype=np.float64)
    k = max(1, min(max_topics, round(math.sqrt(len(texts) / 2))))
    labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(vectors)
    per_cluster = [
        Counter(t for i in np.flatnonzero(labels == c) for t in set(terms(texts[int(i)]))) for c in range(k)
    ]
    all_terms: Counter[str] = Counter()
    for counter in per_cluster:
        all_terms.update(counter)
    clusters = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        if not len(members):
            continue
        centre = vectors[members].mean(axis=0)
        order = members[np.argsort(np.linalg.norm(vectors[members] - centre, axis=1))]
        clusters.append(Cluster(_name(per_cluster[c], all_terms, k), tuple(int(i) for i in order)))
    return sorted(clusters, key=lambda c: (-len(c.members), c.name))


def complaint_topics(
    texts: Sequence[str], embed: Embedder, max_topics: int = 5, examples: int = 3, seed: int = 0
) -> list[ComplaintTopic]:
    """The most frequent complaint topics of `texts`, largest first."""
    if len(texts) < 2:
        return [ComplaintTopic(_fallback(texts), len(texts), tuple(texts))] if texts else []
    return [
        ComplaintTopic(c.name, len(c.members), tuple(dict.fromkeys(texts[i] for i in c.members))[:examples])
        for c in complaint_clusters(texts, embed, max_topics, seed)
    ]


def _fallback(texts: Sequence[str]) -> str:
    words = Counter(t for text in texts for t in terms(text))
    return ", ".join(w for w, _ in words.most_common(3)) or "(mixed)"
