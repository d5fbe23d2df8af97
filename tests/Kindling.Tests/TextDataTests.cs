using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kindling.Data;
using Kindling.Data.Text;

namespace Kindling.Tests;

/// <summary>
/// Text data: the embedded tiny-shakespeare, character/word/GPT-2 tokenizers and their saved state, the corpus batcher,
/// the n-gram baseline (against tools/parity/gen_text_baselines.py's independent Python figures) and text-classification
/// batches.
/// </summary>
public sealed class TextDataTests
{
    private static readonly Lazy<string> Text = new(Datasets.Shakespeare);
    private static readonly Lazy<JsonObject> Reference = new(() =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "tools", "parity", "text", "shakespeare_baselines.json")))!);

    private static double Ref(string key) => Reference.Value[key]!.GetValue<double>();

    [Fact]
    public void EmbeddedShakespeareIsCharRnnsFileByteForByte()
    {
        var text = Text.Value;
        Assert.Equal((int)Ref("chars"), text.Length);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        Assert.Equal(Reference.Value["sha256"]!.GetValue<string>(), hash);
        Assert.Equal(text, Datasets.LoadText("Tiny-Shakespeare"));
        var e = Assert.Throws<DataException>(() => Datasets.LoadText("war-and-peace"));
        Assert.Contains("shakespeare", e.Message);
    }

    [Fact]
    public void CharVocabularyIsSortedDistinctCharactersAndRoundTrips()
    {
        var vocab = CharVocabulary.Fit(Text.Value);
        Assert.Equal((int)Ref("vocab"), vocab.VocabSize);
        Assert.Equal('\n', vocab.Characters[0]);          // nanoGPT's meta.pkl: '\n' then ' ' then '!' …
        Assert.Equal(' ', vocab.Characters[1]);
        Assert.Equal('z', vocab.Characters[^1]);
        var sample = Text.Value[..5000];
        Assert.Equal(sample, vocab.Decode(vocab.Encode(sample)));
        var ids = vocab.Encode("First Citizen:");
        Assert.Equal(vocab.IdOf('F'), ids[0]);
        Assert.True(ids.All(i => i >= 0 && i < 65));

        var e = Assert.Throws<DataException>(() => vocab.Encode("ok\u00e9"));
        Assert.Contains("position 2", e.Message);
        Assert.Contains("U+00E9", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => vocab.Decode([65]));

        var back = Tokenizers.FromJson(vocab.ToJson().ToJsonString());
        Assert.Equal(vocab.Encode(sample), back.Encode(sample));
        Assert.Throws<DataException>(() => Tokenizers.FromJson("""{"kind":"char","chars":"ba"}"""));
        Assert.Throws<DataException>(() => Tokenizers.FromJson("""{"kind":"bpe"}"""));
        Assert.Throws<DataException>(() => Tokenizers.FromJson("not json"));
        Assert.Throws<DataException>(() => CharVocabulary.Fit(""));
    }

    [Fact]
    public void WordVocabularyCountsOnlyTrainingRowsOrdersByFrequencyAndMapsUnknowns()
    {
        string[] train = ["The cat sat.", "the dog sat, the end", "A zebra"];
        var v = WordVocabulary.Fit(train);
        // the ×3; sat ×2; then ties by ordinal order: "," "." "a" "cat" "dog" "end" "zebra"
        Assert.Equal(["<pad>", "<unk>", "the", "sat", ",", ".", "a", "cat", "dog", "end", "zebra"], v.Words);
        Assert.Equal([2, 7, 3, WordVocabulary.UnknownId, 5], v.Encode("THE cat sat unicorn."));
        Assert.Equal("the cat", v.Decode([2, 0, 7]));
        Assert.Equal(0.25, v.UnknownRate(["the cat sat unicorn"]));

        var m2 = WordVocabulary.Fit(train, minCount: 2);
        Assert.Equal(["<pad>", "<unk>", "the", "sat"], m2.Words);
        var small = WordVocabulary.Fit(train, maxSize: 3);
        Assert.Equal(["<pad>", "<unk>", "the"], small.Words);
        var cased = WordVocabulary.Fit(train, lowerCase: false);
        Assert.NotEqual(cased.IdOf("The"), cased.IdOf("the"));
        Assert.Equal(["don't", "stop", "-", "now", "!"], WordVocabulary.Split("Don't stop - NOW!").ToArray());

        var back = (WordVocabulary)Tokenizers.FromJson(v.ToJson().ToJsonString());
        Assert.Equal(v.Words, back.Words);
        Assert.Throws<DataException>(() => Tokenizers.FromJson("""{"kind":"word","words":["a","b"]}"""));
        Assert.Throws<ArgumentOutOfRangeException>(() => WordVocabulary.Fit(train, minCount: 0));
    }

    [Fact]
    public void Gpt2TokenizerGivesGpt2IdsAndIsLossless()
    {
        var t = Gpt2Tokenizer.Instance;
        Assert.Equal(50257, t.VocabSize);
        Assert.Equal([15496, 995], t.Encode("Hello world"));     // GPT-2's ids, as tiktoken's "gpt2" encoding gives them
        var sample = Text.Value[..3000] + " naïve café — 日本";
        Assert.Equal(sample, t.Decode(t.Encode(sample)));
        Assert.Same(t, Tokenizers.FromJson(t.ToJson()));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Decode([50257]));
    }

    [Fact]
    public void CorpusSamplesShiftedBlocksAndEvaluationBlocksCoverEveryTargetOnce()
    {
        var ids = Enumerable.Range(0, 103).Select(i => i % 7).ToArray();
        var corpus = new TokenCorpus(ids, 7);
        var (x, y) = corpus.Sample(4, 10, new Generator(3));
        Assert.Equal([4, 10], x.Shape);
        var xs = x.ToInt64Array(); var ys = y.ToInt64Array();
        for (int i = 0; i < xs.Length; i++) Assert.Equal((xs[i] + 1) % 7, ys[i]);
        var (x2, _) = corpus.Sample(4, 10, new Generator(3));
        Assert.Equal(xs, x2.ToInt64Array());

        // 102 targets in blocks of 10, 3 blocks a batch: batches of 3, 3, 3, 1 full blocks, then the 2 left over.
        var batches = corpus.Blocks(3, 10).ToList();
        Assert.Equal([3, 3, 3, 1, 1], batches.Select(b => b.X.Shape[0]));
        Assert.Equal([1, 2], batches[^1].X.Shape);
        var targets = batches.SelectMany(b => b.Y.ToInt64Array()).ToArray();
        Assert.Equal(ids[1..].Select(i => (long)i), targets);

        var (tr, va, te) = new TokenCorpus(Enumerable.Range(0, 1000).Select(i => i % 5).ToArray(), 5).Split();
        Assert.Equal((900, 50, 50), (tr.Count, va.Count, te.Count));
        var e = Assert.Throws<DataException>(() => va.Sample(2, 50, new Generator(0)));
        Assert.Contains("at least 51", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenCorpus([0, 5], 5));
    }

    [Fact]
    public void NGramBaselineMatchesTheIndependentPythonFigures()
    {
        var vocab = CharVocabulary.Fit(Text.Value);
        var all = new TokenCorpus(vocab.Encode(Text.Value), vocab.VocabSize);
        var (train, val, test) = all.Split();
        Assert.Equal(((int)Ref("train"), (int)Ref("validation"), (int)Ref("test")), (train.Count, val.Count, test.Count));

        // The figure DESIGN.md quotes: order 5, add-0.01, on nanoGPT's whole 10% validation split.
        var o5 = NGramModel.Fit(train, 5, 0.01);
        var tail = all.Slice(train.Count, all.Count - train.Count);
        Assert.Equal(Ref("order5_alpha0.01_on_last10pct"), o5.CrossEntropy(tail), 1e-9);

        var sel = NGramModel.Select(train, val);
        Assert.Equal((int)Ref("selected_order"), sel.Model.Order);
        Assert.Equal(Ref("selected_alpha"), sel.Model.Alpha);
        Assert.Equal(Ref("selected_validation_loss"), sel.ValidationLoss, 1e-9);
        Assert.Equal(Ref("selected_test_loss"), sel.Model.CrossEntropy(test), 1e-9);
        Assert.Equal(Ref("unigram_best_validation_loss"), sel.UnigramValidationLoss, 1e-9);
        Assert.Equal(Ref("unigram_entropy_train"), NGramModel.UnigramEntropy(train), 1e-12);
        Assert.Throws<ArgumentOutOfRangeException>(() => NGramModel.Fit(train, 0, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => NGramModel.Fit(train, 3, 0));
        Assert.Equal(10, NGramModel.MaxOrder(65));
    }

    [Fact]
    public void TextClassificationBatchesPadTruncateAndBag()
    {
        string[] texts = ["good movie", "bad", "", "a very very long and good film"];
        var vocab = WordVocabulary.Fit(texts);
        var data = new TextClassificationData(texts, [1, 0, 0, 1], 2, vocab, maxLength: 4);
        Assert.Equal(1, data.Truncated);
        Assert.Equal([WordVocabulary.PadId], data.Row(2).ToArray());

        var (ids, lengths, labels) = data.CollatePadded([1, 3]);
        Assert.Equal([2, 4], ids.Shape);
        Assert.Equal([1L, 4L], lengths.ToInt64Array());
        Assert.Equal([0L, 1L], labels.ToInt64Array());
        var flat = ids.ToInt64Array();
        Assert.Equal([vocab.IdOf("bad"), 0, 0, 0], flat[..4].Select(v => (int)v));
        Assert.Equal(vocab.Encode("a very very long"), flat[4..].Select(v => (int)v));

        var (bag, offsets, _) = data.CollateBags([0, 2, 1]);
        Assert.Equal([0L, 2L, 3L], offsets.ToInt64Array());
        Assert.Equal(4, bag.Shape[0]);

        var epochA = data.BatchIndices(3, new Generator(1)).SelectMany(b => b).ToArray();
        Assert.Equal([0, 1, 2, 3], epochA.Order());
        Assert.Equal(epochA, data.BatchIndices(3, new Generator(1)).SelectMany(b => b));
        Assert.Equal([[0, 1, 2], [3]], data.BatchIndices(3).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TextClassificationData(texts, [1, 0, 2, 1], 2, vocab));
    }
}
