"""encode: fit the vocabulary on the training texts and turn both splits into int32 arrays."""

from sentiment import data, params, text
from sentiment.io import outputs, run_stage, save_array, write_json

SECTION = "encode"  # its params.yaml section: the keys below, each checked by its rule
PARAMS = {
    "max_vocab": params.integer(2),
    "max_seq": params.integer(1),
    "oov_token": params.text(),
    "padding": params.choice("pre", "post"),
    "truncating": params.choice("pre", "post"),
    "strip_html": params.flag(),
}


def main() -> None:
    p = params.read_section(SECTION, PARAMS)
    splits = {name: data.read_split(f"data/prepared/{name}.parquet") for name in ("train", "test")}
    words = {
        name: text.split_words(text.clean(t, p["strip_html"]) for t in frame["text"])
        for name, frame in splits.items()
    }
    vocabulary = text.fit_vocabulary(words["train"], p["oov_token"])
    index = text.word_index(vocabulary, p["max_vocab"])
    kept = vocabulary[: p["max_vocab"] - 1]
    settings = ("max_seq", "padding", "truncating", "strip_html")
    with outputs("encode") as out:  # arrays, vocabulary and settings: all new or all old
        for name, frame in splits.items():
            x = text.encode(words[name], index, p["max_seq"], p["padding"], p["truncating"])
            save_array(out(f"data/encoded/x_{name}.npy"), x)
            save_array(out(f"data/encoded/y_{name}.npy"), frame["label"].to_numpy("int64"))
        write_json(
            out("models/vocab.json"),
            {
                "oov_token": p["oov_token"],
                "max_vocab": p["max_vocab"],
                "words": kept,
                "counts": text.token_counts(words["train"], kept),  # training tokens per word
            },
        )
        write_json(out("models/encoding.json"), {key: p[key] for key in settings})
        write_json(out(params.used_path("encode")), params.used())
    print(f"encode: {len(vocabulary) - 1} distinct words, kept {len(kept) - 1}")


if __name__ == "__main__":
    run_stage(main)
