using System.Diagnostics;
using Kindling.Data;
using Kindling.Data.Text;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Bench;

/// <summary>
/// Language models on tiny-shakespeare, beside bench/torch_lm.py (bench/lm.sh runs both): a training step of nanoGPT's
/// CPU configuration (4 layers, 4 heads, width 128, context 64, batch 12; AdamW, clip 1.0) and of a 2 × 256 character
/// LSTM (context 64, batch 32), in ms of wall time with CPU time beside it and tokens per second; bytes allocated per
/// steady-state GPT step; and generation of 500 characters (Kindling with its key/value cache, PyTorch with nanoGPT's
/// plain generate loop, a full forward over the cropped context per character). With --filter full it also trains the
/// whole 2000-step nanoGPT run and reports the seconds to a validation loss of 2.0 nats and the loss after 2000 steps.
/// </summary>
public static class LanguageModelBench
{
    public static List<BenchResult> Run(BenchOptions o)
    {
        Kernels.Gemm.MaxThreads = o.Threads;
        var results = new List<BenchResult>();
        var text = Datasets.Shakespeare();
        var vocab = CharVocabulary.Fit(text[..(int)(text.Length * 0.9)]);
        var (train, val, _) = new TokenCorpus(vocab.Encode(text), vocab.VocabSize).Split();
        void Report(string label, double wall, double cpu, int tokens)
        {
            results.Add(new BenchResult(label, wall * 1e3, "ms"));
            results.Add(new BenchResult(label + " cpu", cpu * 1e3, "ms"));
            results.Add(new BenchResult(label + " tokens/s", tokens / wall, "tokens/s"));
            if (!o.Json) Console.WriteLine($"{label,-34} wall {wall * 1e3,8:F2} ms   cpu {cpu * 1e3,8:F2} ms   {tokens / wall,10:N0} tokens/s");
        }

        if (o.Selected("gpt step"))
        {
            var (model, step) = GptStep(train, vocab.VocabSize, new Generator(1337));
            var (wall, cpu) = RecurrentBench.MedianWallAndCpu(step, o.Reps);
            Report("gpt step", wall, cpu, 12 * 64);
            var (bytes, gen2) = Timing.Allocation(step, 5, 20);
            results.Add(new BenchResult("gpt step bytes", bytes, "bytes"));
            if (!o.Json) Console.WriteLine($"{"gpt step allocation",-34} {bytes / 1024,8:F1} KiB per step, {gen2} gen-2 collections");
            GC.KeepAlive(model);
        }
        if (o.Selected("lstm step"))
        {
            var g = new Generator(1);
            var model = new LstmLanguageModel(vocab.VocabSize, 256, 2, generator: g);
            var opt = new AdamW(model.Parameters(), 1e-3, beta2: 0.99, weightDecay: 0);
            var ps = model.Parameters().ToList();
            var (wall, cpu) = RecurrentBench.MedianWallAndCpu(() =>
            {
                var (x, y) = train.Sample(32, 64, g);
                var loss = Functional.CrossEntropy(model.Forward(x).Reshape(32 * 64, vocab.VocabSize), y.Reshape(32 * 64));
                opt.ZeroGrad();
                loss.Backward();
                GradClip.ClipGradNorm(ps, 1.0);
                opt.Step();
            }, o.Reps);
            Report("lstm step", wall, cpu, 32 * 64);
        }
        if (o.Selected("generate"))
        {
            var model = new GPT(new GPTConfig(vocab.VocabSize), new Generator(3));
            model.Eval();
            var prompt = vocab.Encode("\n");
            var (wall, cpu) = RecurrentBench.MedianWallAndCpu(() => TextGeneration.Generate(model, prompt, 500, 0.8, null, new Generator(5)), Math.Min(o.Reps, 5));
            results.Add(new BenchResult("generate 500 chars/s", 500 / wall, "chars/s"));
            if (!o.Json) Console.WriteLine($"{"generate 500 (cached)",-34} {500 / wall,10:N0} chars/s (cpu {cpu:F2} s)");
        }
        if (o.Filter == "full")
        {
            var (toTwo, final, seconds) = FullRun(train, val, vocab.VocabSize);
            results.Add(new BenchResult("full run seconds to val 2.0", toTwo, "s"));
            results.Add(new BenchResult("full run val loss after 2000", final, "nats"));
            results.Add(new BenchResult("full run seconds", seconds, "s"));
            if (!o.Json) Console.WriteLine($"full run: val ≤ 2.0 after {toTwo:F1} s, val {final:F4} nats after 2000 steps, {seconds:F1} s of training");
        }
        return results;
    }

    private static (GPT Model, Action Step) GptStep(TokenCorpus train, int vocab, Generator g)
    {
        var model = new GPT(new GPTConfig(vocab), g);
        var ps = model.Parameters().ToList();
        var opt = new AdamW([new ParamGroup(ps.Where(p => p.Rank >= 2), weightDecay: 0.1), new ParamGroup(ps.Where(p => p.Rank < 2), weightDecay: 0)], 1e-3, beta2: 0.99);
        return (model, () =>
        {
            var (x, y) = train.Sample(12, 64, g);
            var loss = Functional.CrossEntropy(model.Forward(x).Reshape(12 * 64, vocab), y.Reshape(12 * 64));
            opt.ZeroGrad();
            loss.Backward();
            GradClip.ClipGradNorm(ps, 1.0);
            opt.Step();
        });
    }

    /// <summary>nanoGPT's whole CPU run: 2000 steps, warm-up 100, cosine 1e-3 → 1e-4; validation on every token every 100 steps (not timed).</summary>
    private static (double SecondsToTwo, double Final, double Seconds) FullRun(TokenCorpus train, TokenCorpus val, int vocab)
    {
        var g = new Generator(1337);
        var model = new GPT(new GPTConfig(vocab), g);
        var ps = model.Parameters().ToList();
        var opt = new AdamW([new ParamGroup(ps.Where(p => p.Rank >= 2), weightDecay: 0.1), new ParamGroup(ps.Where(p => p.Rank < 2), weightDecay: 0)], 1e-3, beta2: 0.99);
        double toTwo = double.NaN, last = double.NaN;
        var sw = new Stopwatch();
        for (int step = 0; step < 2000; step++)
        {
            sw.Start();
            double lr = step < 100 ? 1e-3 * (step + 1) / 101 : 1e-4 + 0.5 * (1 + Math.Cos(Math.PI * (step - 100) / 1899.0)) * 9e-4;
            foreach (var gr in opt.ParamGroups) gr.Lr = lr;
            var (x, y) = train.Sample(12, 64, g);
            model.Train();
            var loss = Functional.CrossEntropy(model.Forward(x).Reshape(768, vocab), y.Reshape(768));
            opt.ZeroGrad();
            loss.Backward();
            GradClip.ClipGradNorm(ps, 1.0);
            opt.Step();
            sw.Stop();
            if ((step + 1) % 100 == 0)
            {
                model.Eval();
                last = Evaluate(model, val, vocab);
                if (double.IsNaN(toTwo) && last <= 2.0) toTwo = sw.Elapsed.TotalSeconds;
            }
        }
        return (toTwo, last, sw.Elapsed.TotalSeconds);
    }

    private static double Evaluate(GPT model, TokenCorpus data, int vocab)
    {
        using var _ = Autograd.NoGrad();
        double total = 0;
        long n = 0;
        foreach (var (x, y) in data.Blocks(64, 64))
        {
            int m = x.Size(0) * x.Size(1);
            total += Functional.CrossEntropy(model.Forward(x).Reshape(m, vocab), y.Reshape(m), reduction: Reduction.Sum).ItemDouble();
            n += m;
        }
        return total / n;
    }
}
