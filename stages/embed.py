"""embed: the embedding matrix for the vocabulary: pretrained, corpus-trained or random."""

from sentiment import data, embeddings, params, sources, text
from sentiment.io import outputs, run_stage, save_array, write_json

SECTION = "embed"  # its params.yaml section: the keys below, each checked by its rule
PARAMS = {
    "vectors": params.text(),
    "revision": params.text(nullable=True),
    "dim": params.integer(1),
    "limit": params.integer(1, nullable=True),
    "seed": params.seed(),
    "window": params.integer(1),
    "epochs": params.integer(1),
    "min_count": params.integer(1),
    "case_fallback": params.flag(),
}


def main() -> None:
    p = params.read_section(SECTION, PARAMS)
    # `vectors: corpus` trains on the tokens encode makes: `<br />` removed if encode did
    encode = params.read_section("encode", {"strip_html": params.flag()}, only=True)
    strip_html = encode["strip_html"]
    vocab = text.load_vocabulary("models/vocab.json")
    if p["vectors"] == embeddings.RANDOM:
        matrix = embeddings.random_matrix(vocab["max_vocab"], p["dim"], p["seed"])
        coverage, token_coverage, pin = 0.0, 0.0, ""
    else:
        if p["vectors"] == embeddings.CORPUS:  # training texts (+ unlabelled), never test
            texts = [
                t
                for name in ("train", "unlabelled")
                for t in data.read_split(f"data/prepared/{name}.parquet")["text"]
            ]
            sentences = [text.words(text.clean(t, strip_html)) for t in texts]
            vectors = embeddings.train_vectors(
                sentences, p["dim"], p["window"], p["epochs"], p["min_count"], p["seed"]
            )
            pin = f"corpus:{len(texts)} reviews, {len(vectors.index_to_key)} words"
        else:
            path, pin = sources.fetch(p["vectors"], p["revision"], "model", "embed.vectors")
            vectors = embeddings.load_vectors(path, p["limit"], wanted=set(vocab["words"]))
        matrix, coverage = embeddings.embedding_matrix(
            vocab["words"], vocab["max_vocab"], vectors, p["dim"], p["case_fallback"]
        )
        token_coverage = embeddings.token_coverage(matrix, vocab["counts"])
    with outputs("embed") as out:
        save_array(out("data/embedding_matrix.npy"), matrix)
        write_json(out(params.used_path("embed")), params.used())
        write_json(
            out("metrics/embed.json"),
            {
                "coverage": round(coverage, 6),
                "token_coverage": round(token_coverage, 6),
                "source": {"vectors": p["vectors"], "revision": pin},
            },
        )
    print(
        f"embed: {matrix.shape} matrix, {coverage:.1%} of the vocabulary found "
        f"({token_coverage:.1%} of the training tokens)"
    )


if __name__ == "__main__":
    run_stage(main)
