using System.Text.Json.Nodes;
using Kindling.IO;
using Kindling.NN;

namespace Kindling.Tests;

/// <summary>
/// The GPT and LSTM language models, their incremental decoders, sampling, and the command's language-model path
/// (train on a text file, test figures and baselines, generate, errors).
/// </summary>
public sealed class LanguageModelTests
{
    private static GPT LoadFixtureGpt(DType dtype, out SafetensorsFile f)
    {
        f = Safetensors.Load(Path.Combine(Repo.Root, "tools", "parity", "text", "gpt_case.safetensors"));
        var gpt = new GPT(new GPTConfig(11, 16, 2, 2, 8), new Generator(0), dtype);
        var state = f.Tensors.Where(kv => kv.Key.StartsWith("param.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["param.".Length..], kv => kv.Value.To(dtype));
        gpt.LoadStateDict(state);   // strict: nanoGPT's names, every parameter present and nothing else
        return gpt;
    }

    [Theory]
    [InlineData(DType.Float64, 1e-10)]
    [InlineData(DType.Float32, 2e-4)]
    public void GptForwardAndEveryGradientMatchPyTorch(DType dtype, double tol)
    {
        var gpt = LoadFixtureGpt(dtype, out var f);
        var logits = gpt.Forward(f.Tensors["ids"]);
        var loss = Functional.CrossEntropy(logits.Reshape(30, 11), f.Tensors["target"].Reshape(30));
        Assert.Equal(f.Tensors["loss"].ToDoubleArray()[0], loss.ItemDouble(), tol);
        AssertClose(f.Tensors["logits"], logits, tol);
        loss.Backward();
        int checkedGrads = 0;
        foreach (var (name, p) in gpt.NamedParameters())
        {
            AssertClose(f.Tensors["grad." + name], p.Grad!, tol, name);
            checkedGrads++;
        }
        Assert.Equal(f.Tensors.Keys.Count(k => k.StartsWith("grad.", StringComparison.Ordinal)), checkedGrads);
    }

    [Fact]
    public void GptStateDictHasNanoGptNamesAndTheTiedWeightOnce()
    {
        var gpt = new GPT(new GPTConfig(11, 16, 2, 2, 8));
        var names = gpt.StateDict().Keys.ToList();
        Assert.Contains("transformer.wte.weight", names);
        Assert.Contains("transformer.h.1.attn.c_attn.weight", names);
        Assert.Contains("transformer.h.0.mlp.c_proj.bias", names);
        Assert.Contains("transformer.ln_f.weight", names);
        Assert.DoesNotContain(names, n => n.StartsWith("lm_head", StringComparison.Ordinal));
        // nanoGPT's initialisation: residual projections N(0, 0.02/√(2·layers)), other weights N(0, 0.02), biases 0.
        var big = new GPT(new GPTConfig(50, 64, 4, 4, 128), new Generator(3));
        var sd = big.StateDict();
        Assert.Equal(0.02 / Math.Sqrt(8), Std(sd["transformer.h.2.attn.c_proj.weight"]), 0.0015);
        Assert.Equal(0.02, Std(sd["transformer.h.2.mlp.c_fc.weight"]), 0.0015);
        Assert.All(sd["transformer.h.2.mlp.c_fc.bias"].ToArray(), v => Assert.Equal(0f, v));
        Assert.All(sd["transformer.h.0.ln_1.weight"].ToArray(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void GptCachedDecodingEqualsTheFullForwardAtEveryPosition()
    {
        var gpt = LoadFixtureGpt(DType.Float64, out _);
        gpt.Eval();
        int[] ids = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8];
        Tensor full;
        using (Autograd.NoGrad()) full = gpt.Forward(Tensor.FromArray(ids.Select(i => (long)i).ToArray(), 1, ids.Length));
        // Chunks of 3, 1, 1, 4, 3: a first chunk with the causal mask, single tokens, then chunks after a cache.
        var dec = gpt.StartDecoding();
        int at = 0;
        foreach (int len in new[] { 3, 1, 1, 4, 3 })
        {
            var got = dec.Append(ids.AsSpan(at, len));
            at += len;
            var want = full.Select(1, at - 1).Reshape(11).ToArray();
            for (int v = 0; v < 11; v++) Assert.Equal(want[v], got[v], 1e-5);
        }
    }

    [Fact]
    public void LstmModelDecodingEqualsTheFullForward()
    {
        var m = new LstmLanguageModel(7, width: 12, layers: 2, generator: new Generator(5));
        m.Eval();
        int[] ids = [1, 2, 3, 4, 5, 6, 0, 1];
        Tensor full;
        using (Autograd.NoGrad()) full = m.Forward(Tensor.FromArray(ids.Select(i => (long)i).ToArray(), 1, ids.Length));
        var dec = m.StartDecoding();
        var a = dec.Append(ids.AsSpan(0, 5));
        var b = dec.Append(ids.AsSpan(5, 3));
        Assert.Equal(full.Select(1, 4).Reshape(7).ToArray(), a, new FloatTolerance(1e-5f));
        Assert.Equal(full.Select(1, 7).Reshape(7).ToArray(), b, new FloatTolerance(1e-5f));
        Assert.Equal(["embedding.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l1", "head.weight"], m.StateDict().Keys.Where(k => k is "embedding.weight" or "lstm.weight_ih_l0" or "lstm.weight_hh_l1" or "head.weight"));
    }

    [Fact]
    public void SamplingIsSeededRespectsTopKAndTemperature()
    {
        float[] logits = [0.5f, 2f, 1.9f, -1f, 2f];
        var g = new Generator(1);
        var seen = new HashSet<int>();
        for (int i = 0; i < 2000; i++) seen.Add(TextGeneration.Sample(logits, 1.0, 2, g));
        Assert.Equal([1, 4], seen.Order());                  // the two tied maxima; 1.9 is third
        seen.Clear();
        for (int i = 0; i < 2000; i++) seen.Add(TextGeneration.Sample(logits, 1.0, 3, g));
        Assert.Equal([1, 2, 4], seen.Order());
        // A very low temperature is greedy between the two maxima only; temperature 1 visits everything.
        for (int i = 0; i < 200; i++) Assert.Contains(TextGeneration.Sample(logits, 1e-3, null, g), new[] { 1, 4 });
        var counts = new int[5];
        for (int i = 0; i < 20000; i++) counts[TextGeneration.Sample(logits, 1.0, null, g)]++;
        var p = logits.Select(l => Math.Exp(l)).ToArray();
        for (int i = 0; i < 5; i++) Assert.Equal(p[i] / p.Sum(), counts[i] / 20000.0, 0.015);

        var m = new LstmLanguageModel(9, width: 8, layers: 1, generator: new Generator(2));
        m.Eval();
        var a = TextGeneration.Generate(m, [1, 2], 30, 0.9, 5, new Generator(7));
        Assert.Equal(a, TextGeneration.Generate(m, [1, 2], 30, 0.9, 5, new Generator(7)));
        Assert.NotEqual(a, TextGeneration.Generate(m, [1, 2], 30, 0.9, 5, new Generator(8)));
        Assert.Throws<ArgumentOutOfRangeException>(() => TextGeneration.Generate(m, [1], 3, 0, null, new Generator(0)));
    }

    [Fact]
    public void GenerationPastTheContextRestartsFromTheLastContextTokens()
    {
        var gpt = LoadFixtureGpt(DType.Float64, out _);
        gpt.Eval();
        // 40 tokens from a 16-token context: after the cache fills, the window slides (nanoGPT crops the same way).
        var a = TextGeneration.Generate(gpt, [1, 2, 3], 40, 1.0, null, new Generator(4));
        Assert.Equal(40, a.Length);
        Assert.All(a, t => Assert.InRange(t, 0, 10));
        // Greedy (top-1) generation equals the argmax of a full forward over the last 16 tokens at every step.
        var greedy = TextGeneration.Generate(gpt, [1, 2, 3], 20, 1.0, 1, new Generator(0));
        var seq = new List<int> { 1, 2, 3 };
        foreach (int next in greedy)
        {
            var window = seq.Skip(Math.Max(0, seq.Count - 16)).Select(i => (long)i).ToArray();
            Tensor logits;
            using (Autograd.NoGrad()) logits = gpt.Forward(Tensor.FromArray(window, 1, window.Length));
            var last = logits.Select(1, window.Length - 1).Reshape(11).ToDoubleArray();
            Assert.True(last.ToList().IndexOf(last.Max()) == next, $"step {seq.Count - 3}: full forward {string.Join(", ", last)}, generated {next}");
            seq.Add(next);
        }
    }

    private static double Std(Tensor t)
    {
        var v = t.ToArray();
        double m = v.Average(x => (double)x);
        return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / v.Length);
    }

    private static void AssertClose(Tensor want, Tensor got, double tol, string what = "")
    {
        Assert.Equal(want.Shape, got.Shape);
        var w = want.ToDoubleArray();
        var g = got.To(DType.Float64).ToDoubleArray();
        for (int i = 0; i < w.Length; i++)
            Assert.True(Math.Abs(w[i] - g[i]) <= tol * (1 + Math.Abs(w[i])), $"{what}[{i}]: PyTorch {w[i]}, Kindling {g[i]}");
    }

    private sealed class FloatTolerance(float tol) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tol;
        public int GetHashCode(float v) => 0;
    }
}
