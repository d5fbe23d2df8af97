using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Kindling.Data.Text;
using Kindling.IO;
using Kindling.NN;
using Kindling.Optim;
using Kindling.Report;

namespace Kindling.Cli;

/// <summary>The language-model training command: set-up, baselines, the step loop with evaluations, test, samples, files.</summary>
public static class LanguageModelTrain
{
    private const double Ln2 = 0.69314718055994530942;

    public sealed record EvalRow(int Step, double TrainLoss, double ValLoss, double Lr, double Seconds);

    public static int Run(TrainConfig c, bool resume, Output output)
    {
        if (resume) throw new UserError("--resume is not supported for language-model runs yet; start the run again (the model of its last evaluation is in model.safetensors).");
        c = LanguageModelRun.Resolve(c);
        bool main = Kindling.Distributed.Distributed.IsMain;
        if (Kindling.Distributed.Distributed.WorldSize > 1) throw new UserError("language models train in one process; run without mpirun (use --threads).");
        if (c.Out != null && !c.Overwrite && File.Exists(Path.Combine(c.Out, "config.json")))
            throw new UserError($"--out '{c.Out}' already holds a run; pass --overwrite to replace it.");
        var src = TextSource.Load(c.Data, c.Tokenizer!);
        var dir = RunFolder.CreateAndLock(c.Out);
        RunFiles.EnsureWritable(dir);
        c = c with { Out = dir, KindlingVersion = typeof(Tensor).Assembly.GetName().Version?.ToString(3), DataSha256 = src.Sha256, ResolvedTask = "language_model", ResolvedLoss = "cross_entropy" };
        RunFiles.WriteAtomic(Path.Combine(dir, "config.json"), c.ToJson());
        RunFiles.WriteAtomic(Path.Combine(dir, "tokenizer.json"), src.Tokenizer.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        string unit = src.Tokenizer.Kind == "char" ? "char" : "token";
        int context = c.Context!.Value;

        output.Info($"data: {c.Data} — {src.Train.Count:N0} training, {src.Validation.Count:N0} validation, {src.Test.Count:N0} test {unit}s (first 90% / next 5% / last 5%, as nanoGPT splits), {src.Tokenizer.Kind} vocabulary of {src.Tokenizer.VocabSize:N0} fitted on the training text");
        foreach (var n in src.Notes) output.Info(n);

        // Honest baselines first: what counting alone achieves (the source material's H(X) and H(X | context)).
        var sw = Stopwatch.StartNew();
        var ngram = NGramModel.Select(src.Train, src.Validation, orders: Enumerable.Range(1, Math.Min(6, NGramModel.MaxOrder(src.Tokenizer.VocabSize))));
        double ngramTest = ngram.Model.CrossEntropy(src.Test);
        double unigramTest = NGramModel.Fit(src.Train, 1, ngram.Model.Order == 1 ? ngram.Model.Alpha : 0.01).CrossEntropy(src.Test);
        output.Info($"baselines (validation, nats per {unit}): unigram {ngram.UnigramValidationLoss:F3} ({Bits(ngram.UnigramValidationLoss)} bits, ignores context: H(X)); " +
            $"best n-gram order {ngram.Model.Order}, add-{ngram.Model.Alpha.ToString(CultureInfo.InvariantCulture)}: {ngram.ValidationLoss:F3} ({Bits(ngram.ValidationLoss)} bits: H(X | {ngram.Model.Order - 1} previous {unit}s)), chosen on validation in {sw.Elapsed.TotalSeconds:F1}s");

        var g = new Generator(c.Seed);
        if (c.Threads <= 0) throw new UserError($"--threads must be positive, got {c.Threads}.");
        Kernels.Gemm.MaxThreads = c.Threads;
        var model = LanguageModelRun.Build(c, src.Tokenizer.VocabSize, g);
        var lm = (ILanguageModel)model;
        var opt = LanguageModelRun.Optimizer(c, model);
        long nParams = model.Parameters().Distinct().Sum(p => (long)p.NumEl);
        output.Info($"model: {Describe(c)}, {nParams:N0} parameters; {c.Optimizer} lr {c.Lr:G3} (β₂ 0.99, weight decay {c.WeightDecay:G3} on ≥2-D weights only), warm-up {c.Warmup} steps then cosine to {c.MinLr:G3}, clip {c.Clip:G3}, batch {c.BatchSize} × context {context}, {c.Steps} steps, {c.Threads} threads" +
            (c.Model == "gpt" ? " — nanoGPT's CPU configuration for every option not given" : ""));

        var rows = new List<EvalRow>();
        var steps = new List<StepRow>();
        double running = double.NaN;
        int total = c.Steps!.Value, every = c.EvalEvery!.Value;
        var clock = Stopwatch.StartNew();
        var paramsList = model.Parameters().Distinct().ToList();
        bool interrupted = false;
        for (int step = 0; step < total; step++)
        {
            if (Trainer.StopRequested) { interrupted = true; total = step; break; }
            double lr = LanguageModelRun.LrAt(c, step);
            foreach (var grp in opt.ParamGroups) grp.Lr = lr;
            model.Train();
            var (x, y) = src.Train.Sample(c.BatchSize, context, g);
            var logits = lm.Logits(x);
            int n = c.BatchSize * context;
            var loss = Functional.CrossEntropy(logits.Reshape(n, lm.VocabSize), y.Reshape(n));
            opt.ZeroGrad();
            loss.Backward();
            if (c.Clip > 0) GradClip.ClipGradNorm(paramsList, c.Clip!.Value);
            opt.Step();
            double l = loss.ItemDouble();
            if (!double.IsFinite(l)) throw new UserError($"step {step + 1}: the training loss is {l}; lower --lr (now {c.Lr:G3}) or raise --warmup.");
            running = double.IsNaN(running) ? l : 0.9 * running + 0.1 * l;
            steps.Add(new StepRow(step + 1, 0, l, lr));
            if ((step + 1) % every == 0 || step == total - 1)
            {
                model.Eval();
                double val = LanguageModelRun.Evaluate(lm, src.Validation, context);
                rows.Add(new EvalRow(step + 1, running, val, lr, clock.Elapsed.TotalSeconds));
                output.Info($"step {step + 1,5}/{total}: train {running:F3}, validation {val:F3} nats = {Bits(val)} bits/{unit}, perplexity {Math.Exp(val):F2}  ({(step + 1) * (double)n / clock.Elapsed.TotalSeconds:N0} {unit}s/s)");
                if (main) Safetensors.SaveModule(Path.Combine(dir, "model.safetensors"), model, new Dictionary<string, string> { ["format"] = "pt", ["task"] = "language_model", ["model"] = c.Model });
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        model.Eval();
        if (interrupted)
        {
            Safetensors.SaveModule(Path.Combine(dir, "model.safetensors"), model, new Dictionary<string, string> { ["format"] = "pt", ["task"] = "language_model", ["model"] = c.Model });
            RunFiles.WriteAtomic(Path.Combine(dir, "eval.csv"), RunFiles.Csv(["step", "train_loss", "val_loss", "val_bits_per_" + unit, "lr", "seconds"],
                rows.Select(r => (IEnumerable<object>)[r.Step, r.TrainLoss, r.ValLoss, r.ValLoss / Ln2, r.Lr, r.Seconds])));
            output.Info($"interrupted after {total} steps: the model of step {total} is in {dir}/model.safetensors (kindling generate {dir} works on it).");
            return 130;
        }
        double testLoss = LanguageModelRun.Evaluate(lm, src.Test, context);
        long testTokens = src.Test.Count - 1;
        double bitsPerChar = testLoss * testTokens / Ln2 / Math.Max(1, src.TestCharacters - 1);
        var samples = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            var prompt = src.Tokenizer.Encode("\n");
            if (prompt.Length == 0) prompt = [0];
            var ids = TextGeneration.Generate(lm, prompt, unit == "char" ? 300 : 80, 0.8, null, new Generator(c.Seed + (ulong)i + 1));
            samples.Add(src.Tokenizer.Decode(ids));
        }
        var metrics = new Dictionary<string, object>
        {
            ["loss"] = testLoss, ["bits_per_" + unit] = testLoss / Ln2, ["bits_per_char"] = bitsPerChar, ["perplexity"] = Math.Exp(testLoss),
            ["tokens"] = testTokens, ["ngram_order"] = ngram.Model.Order, ["ngram_alpha"] = ngram.Model.Alpha, ["ngram_loss"] = ngramTest, ["unigram_loss"] = unigramTest,
            ["steps"] = total, ["seconds"] = seconds, [unit + "s_per_second"] = total * (double)c.BatchSize * context / seconds,
        };
        RunFiles.WriteAtomic(Path.Combine(dir, "test_metrics.json"), JsonSerializer.Serialize(metrics, new JsonSerializerOptions { WriteIndented = true }));
        RunFiles.WriteAtomic(Path.Combine(dir, "eval.csv"), RunFiles.Csv(["step", "train_loss", "val_loss", "val_bits_per_" + unit, "lr", "seconds"],
            rows.Select(r => (IEnumerable<object>)[r.Step, r.TrainLoss, r.ValLoss, r.ValLoss / Ln2, r.Lr, r.Seconds])));
        RunFiles.WriteAtomic(Path.Combine(dir, "samples.txt"), string.Join("\n\n----\n\n", samples) + "\n");
        WriteReport(dir, c, src, rows, steps, ngram, ngramTest, unigramTest, testLoss, bitsPerChar, samples, nParams, unit);

        output.Info($"test: {testLoss:F4} nats = {Bits(testLoss)} bits/{unit}{(unit == "char" ? "" : $" ({bitsPerChar:F3} bits/char)")}, perplexity {Math.Exp(testLoss):F2}; n-gram (order {ngram.Model.Order}) {ngramTest:F4}, unigram {unigramTest:F4}");
        if (testLoss >= ngramTest)
            output.Warning($"the network ({testLoss:F3} nats) does not beat counting: an order-{ngram.Model.Order} n-gram model scores {ngramTest:F3} on the same test text. Train longer (--steps), or widen the model.");
        output.Info($"sample:\n{samples[0]}");
        output.Info($"trained {total} steps in {seconds:F1}s ({total * (double)c.BatchSize * context / seconds:N0} {unit}s/s); run folder: {dir} (model.safetensors, tokenizer.json, eval.csv, samples.txt, test_metrics.json, report.html); continue the text with: kindling generate {dir} --prompt \"...\"");
        return 0;
    }

    private static string Bits(double nats) => (nats / Ln2).ToString("F3", CultureInfo.InvariantCulture);

    public static string Describe(TrainConfig c) => c.Model == "gpt"
        ? $"GPT ({c.Layers} layers, {c.Heads} heads, width {c.Width}, context {c.Context}, dropout {c.Dropout:G3}, tied embeddings)"
        : $"character LSTM ({c.Layers} layers × {c.Width}, dropout {c.Dropout:G3} between layers)";

    private static void WriteReport(string dir, TrainConfig c, TextSource src, List<EvalRow> rows, List<StepRow> steps, NGramSelection ngram,
        double ngramTest, double unigramTest, double testLoss, double bitsPerChar, List<string> samples, long nParams, string unit)
    {
        var xs = rows.Select(r => (double)r.Step).ToList();
        double first = 1, last = Math.Max(2, steps.Count);
        var bpc = SvgPlot.LineChart($"Bits per {unit}", "step", $"bits per {unit}",
        [
            new Series("train (running)", xs, rows.Select(r => r.TrainLoss / Ln2).ToList()),
            new Series("validation", xs, rows.Select(r => r.ValLoss / Ln2).ToList()),
            new Series($"n-gram (order {ngram.Model.Order})", [first, last], [ngram.ValidationLoss / Ln2, ngram.ValidationLoss / Ln2], Dashed: true),
            new Series("unigram", [first, last], [ngram.UnigramValidationLoss / Ln2, ngram.UnigramValidationLoss / Ln2], Dashed: true),
        ]);
        var lr = SvgPlot.LineChart("Learning rate", "step", "learning rate", [new Series("lr", steps.Select(s => (double)s.Step).ToList(), steps.Select(s => s.Lr).ToList())]);
        RunFiles.WriteAtomic(Path.Combine(dir, "bits.svg"), bpc);
        var inv = CultureInfo.InvariantCulture;
        var model = new ReportModel
        {
            Title = $"Kindling language model: {c.Data}",
            RunName = dir,
            Date = DateTimeOffset.Now,
            Summary =
            [
                ("data", $"{c.Data}: {src.Train.Count:N0} / {src.Validation.Count:N0} / {src.Test.Count:N0} {unit}s (train / validation / test)"),
                ("tokenizer", $"{src.Tokenizer.Kind}, {src.Tokenizer.VocabSize:N0} ids, fitted on the training text"),
                ("model", $"{Describe(c)}, {nParams:N0} parameters"),
                ("optimizer", $"{c.Optimizer} lr {c.Lr:G3} → {c.MinLr:G3} (warm-up {c.Warmup}, cosine), weight decay {c.WeightDecay:G3} on ≥2-D weights, clip {c.Clip:G3}"),
                ("training", $"{c.Steps} steps of {c.BatchSize} × {c.Context} {unit}s, seed {c.Seed}"),
            ],
            Warnings = testLoss >= ngramTest ? [$"The network ({testLoss:F3} nats) does not beat the order-{ngram.Model.Order} n-gram model ({ngramTest:F3} nats) on the test text."] : [],
            Charts = [new(bpc, $"Validation bits per {unit} at each evaluation, against counting baselines chosen on the same validation text."), new(lr, "Learning rate per step.")],
            FinalMetrics =
            [
                new MetricRow("loss (nats)", rows.LastOrDefault()?.TrainLoss, rows.LastOrDefault()?.ValLoss, testLoss),
                new MetricRow($"bits per {unit}", rows.LastOrDefault()?.TrainLoss / Ln2, rows.LastOrDefault()?.ValLoss / Ln2, testLoss / Ln2),
                new MetricRow("perplexity", null, rows.LastOrDefault() is { } lr0 ? Math.Exp(lr0.ValLoss) : null, Math.Exp(testLoss)),
            ],
            Tables =
            [
                new ReportTable("Against counting (test text)", ["model", "nats", $"bits per {unit}"],
                [
                    ["unigram (no context): H(X)", unigramTest.ToString("F4", inv), (unigramTest / Ln2).ToString("F3", inv)],
                    [$"n-gram order {ngram.Model.Order}, add-{ngram.Model.Alpha.ToString(inv)} (chosen on validation)", ngramTest.ToString("F4", inv), (ngramTest / Ln2).ToString("F3", inv)],
                    [c.Model, testLoss.ToString("F4", inv), (testLoss / Ln2).ToString("F3", inv)],
                ], "Cross-entropy is the number of nats (bits) the model needs per token: the unigram model's is the entropy H(X); a model that uses context estimates H(X | context)."),
                new ReportTable("Samples (temperature 0.8)", ["#", "text"], samples.Select((s, i) => (IReadOnlyList<string>)[(i + 1).ToString(inv), s]).ToList()),
            ],
        };
        RunFiles.WriteAtomic(Path.Combine(dir, "report.html"), HtmlReport.Build(model));
    }
}
