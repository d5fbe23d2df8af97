using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Kindling.Data.Text;
using Kindling.IO;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Cli;

/// <summary>
/// <c>kindling train --data shakespeare|FILE.txt --model gpt|lstm</c>: a language model trained for a number of optimizer
/// steps on random blocks of the training text (nanoGPT's loop), evaluated on every token of the validation text, and
/// reported in nats, bits per character (per token) and perplexity beside the unigram and best n-gram baselines.
/// </summary>
public static class LanguageModelRun
{
    /// <summary>Whether a train configuration asks for a language model.</summary>
    public static bool Applies(TrainConfig c) => c.Model is "gpt" or "lstm" || TextSource.IsText(c.Data);

    /// <summary>The configuration with every language-model default filled in (nanoGPT's CPU configuration for gpt).</summary>
    public static TrainConfig Resolve(TrainConfig c)
    {
        string model = c.Model is "gpt" or "lstm" ? c.Model : c.Model == "mlp" ? "gpt"
            : throw new UserError($"--model {c.Model}: a language model is gpt or lstm.");
        bool Given(string flag) => c.Given.Contains(flag);
        var r = c with
        {
            Model = model,
            Layers = c.Layers ?? (model == "gpt" ? 4 : 2),
            Heads = c.Heads ?? 4,
            Width = c.Width ?? (model == "gpt" ? 128 : 256),
            Context = c.Context ?? 64,
            BatchSize = Given("--batch-size") ? c.BatchSize : model == "gpt" ? 12 : 32,
            Optimizer = Given("--optimizer") ? c.Optimizer : "adamw",
            Lr = c.Lr ?? 1e-3,
            WeightDecay = Given("--weight-decay") ? c.WeightDecay : 0.1,
            Steps = c.Steps ?? 2000,
            Clip = c.Clip ?? 1.0,
            Tokenizer = c.Tokenizer ?? "char",
        };
        r = r with { MinLr = c.MinLr ?? r.Lr / 10, Warmup = c.Warmup ?? Math.Min(100, r.Steps!.Value / 10), EvalEvery = c.EvalEvery ?? Math.Max(1, Math.Min(250, r.Steps!.Value / 4)) };
        if (r.Optimizer is not ("adamw" or "adam" or "sgd")) throw new UserError($"--optimizer {r.Optimizer}: a language model trains with adamw, adam or sgd.");
        if (r.Steps < 1) throw new UserError($"--steps must be at least 1, got {r.Steps}.");
        if (r.Warmup < 0 || r.Warmup >= r.Steps) throw new UserError($"--warmup must be in [0, --steps), got {r.Warmup} with --steps {r.Steps}.");
        if (r.Context < 1 || r.Context > 4096) throw new UserError($"--context must be in [1, 4096], got {r.Context}.");
        if (r.Layers < 1 || r.Layers > 64) throw new UserError($"--layers must be in [1, 64], got {r.Layers}.");
        if (r.Width < 1 || r.Width > 8192) throw new UserError($"--width must be in [1, 8192], got {r.Width}.");
        if (model == "gpt" && (r.Heads < 1 || r.Width % r.Heads != 0)) throw new UserError($"--heads {r.Heads} must divide --width {r.Width}.");
        if (!(r.Clip >= 0)) throw new UserError($"--clip must be ≥ 0 (0: off), got {r.Clip}.");
        if (!(r.Lr > 0) || !(r.MinLr >= 0) || r.MinLr > r.Lr) throw new UserError($"--min-lr must be in [0, --lr], got {r.MinLr} with --lr {r.Lr}.");
        if (!(r.Dropout >= 0 && r.Dropout < 1)) throw new UserError($"--dropout must be in [0, 1), got {r.Dropout}.");
        return r;
    }

    /// <summary>nanoGPT's schedule: linear warm-up to lr over <c>warmup</c> steps, then cosine down to min-lr at the last step.</summary>
    public static double LrAt(TrainConfig c, int step)
    {
        double lr = c.Lr!.Value, min = c.MinLr!.Value;
        int warm = c.Warmup!.Value, steps = c.Steps!.Value;
        if (step < warm) return lr * (step + 1) / (warm + 1);
        double ratio = steps - 1 == warm ? 1 : (double)(step - warm) / (steps - 1 - warm);
        return min + 0.5 * (1 + Math.Cos(Math.PI * ratio)) * (lr - min);
    }

    public static Module Build(TrainConfig c, int vocab, Generator g) => c.Model switch
    {
        "lstm" => new LstmLanguageModel(vocab, c.Width!.Value, c.Layers!.Value, c.Dropout, g),
        "gpt" => new GPT(new GPTConfig(vocab, c.Context!.Value, c.Layers!.Value, c.Heads!.Value, c.Width!.Value, c.Dropout), g),
        _ => throw new UserError($"--model {c.Model}: a language model is gpt or lstm."),
    };

    /// <summary>Weight decay only on weights of two or more dimensions (matrices and embeddings), as nanoGPT configures AdamW.</summary>
    public static Optimizer Optimizer(TrainConfig c, Module model)
    {
        var ps = model.Parameters().Distinct().ToList();
        var groups = new[]
        {
            new ParamGroup(ps.Where(p => p.Rank >= 2), weightDecay: c.WeightDecay),
            new ParamGroup(ps.Where(p => p.Rank < 2), weightDecay: 0),
        }.Where(gr => gr.Params.Count > 0).ToList();
        return c.Optimizer switch
        {
            "adamw" => new AdamW(groups, c.Lr!.Value, beta1: 0.9, beta2: 0.99, weightDecay: c.WeightDecay),
            "adam" => new Adam(groups, c.Lr!.Value, beta1: 0.9, beta2: 0.99, weightDecay: c.WeightDecay),
            _ => new SGD(groups, c.Lr!.Value, momentum: c.Momentum, weightDecay: c.WeightDecay),
        };
    }

    /// <summary>Mean cross-entropy in nats of every token of <paramref name="data"/>, in blocks of the context length.</summary>
    public static double Evaluate(ILanguageModel model, TokenCorpus data, int context, int batchBlocks = 32)
    {
        using var _ = Autograd.NoGrad();
        double total = 0;
        long count = 0;
        foreach (var (x, y) in data.Blocks(batchBlocks, context))
        {
            var logits = model.Logits(x);
            int n = x.Size(0) * x.Size(1);
            total += Functional.CrossEntropy(logits.Reshape(n, model.VocabSize), y.Reshape(n), reduction: Reduction.Sum).ItemDouble();
            count += n;
        }
        return total / count;
    }
}
