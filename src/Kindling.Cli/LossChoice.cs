using Kindling.NN;
using Kindling.Registry;

namespace Kindling.Cli;

/// <summary>
/// The chosen loss as a function of (model output, target batch), with the number of outputs it needs and a one-line
/// explanation of the choice — the source material's "how to choose a loss function", made explicit.
/// </summary>
public sealed class LossChoice
{
    public required string Name { get; init; }
    public required int Outputs { get; init; }
    public required string Why { get; init; }
    public required Func<Tensor, Tensor, Tensor> Fn { get; init; }
    public List<string> Warnings { get; } = [];

    /// <summary>The command-line names of the losses for each task, in the registry's order.</summary>
    public static IReadOnlyDictionary<string, string[]> ByTask { get; } =
        LossTasks.All.ToDictionary(t => t, t => Components.LossesFor(t).Select(e => e.Short).Distinct().ToArray());

    /// <summary>Every command-line loss name (what --loss offers), in the registry's order.</summary>
    public static IReadOnlyList<string> AllNames { get; } = Components.Losses.All.Where(e => e.Uses.Count > 0).Select(e => e.Short).Distinct().ToList();

    public static bool IsPoisson(string loss) => Components.Losses.TryGet(loss, out var e) && e.Name == "poisson_nll_loss";

    public static LossChoice Choose(Problem p, TrainConfig c)
    {
        string task = p.Task;
        var allowed = ByTask[task];
        bool auto = c.Loss.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase);
        // --loss auto: the maximum-likelihood loss of the task.
        var entry = Components.LossFor(task, auto ? task switch { "classification" => "cross_entropy", "regression" => "mse", _ => "bce_with_logits" } : c.Loss)
            ?? throw new UserError($"--loss {c.Loss} does not fit a {task} task; use one of: {string.Join(", ", allowed)}.");
        string name = entry.Short;
        int k = p.NumClasses;
        var weights = ClassWeights(p, c);
        double ls = c.LabelSmoothing;
        if (ls != 0 && name != "cross_entropy") throw new UserError($"--label-smoothing applies to cross_entropy only, not {name}.");
        string why = (task, name) switch
        {
            ("classification", "cross_entropy") => $"{p.TaskReason} → CrossEntropyLoss on {k} logits (log-softmax + NLL, the maximum-likelihood loss for a categorical label)",
            ("binary", "bce_with_logits") => $"{p.TaskReason} → BCEWithLogitsLoss on one logit (sigmoid and binary cross-entropy fused, stable for any logit)",
            ("multilabel", "bce_with_logits") => $"{p.TaskReason} → BCEWithLogitsLoss on {p.YTrain.Size(1)} independent logits, one per label",
            ("regression", "mse") => $"{p.TaskReason} → MSELoss (the maximum-likelihood loss under Gaussian noise)",
            _ => $"--loss {name} for a {task} task",
        };
        if (auto && task == "regression" && p.Counts)
            why += "; the target holds non-negative whole numbers (counts?): --loss poisson_nll models counts directly (a log-rate output, predictions in counts)";
        if (!auto) why = $"--loss {name} ({p.TaskReason})";
        if (name == "poisson_nll") why = $"--loss poisson_nll: Poisson regression on a log-rate output (PoissonNLLLoss with log_input); predictions are exp(output), in counts ({p.TaskReason})";
        if (name == "poisson_nll")
        {
            if (p.Prep.ScalesTargets) throw new UserError("--loss poisson_nll needs the raw, non-negative target counts, but the targets were standardised.");
            if (p.YTrain.ToArray().Any(v => v < 0)) throw new UserError("--loss poisson_nll models counts, but the target has negative values; use --loss mse or huber.");
        }
        // How the loss trains a model on this task (outputs, target adaptation) is the registry entry's.
        var use = entry.For(task)!;
        var ctx = new LossTaskContext
        {
            Classes = k, Targets = p.YTrain.Rank == 1 ? 1 : p.YTrain.Size(1), LabelSmoothing = ls,
            ClassWeights = weights == null ? null : Tensor.FromArray(weights),
        };
        var choice = new LossChoice { Name = name, Outputs = use.Outputs(ctx), Why = why, Fn = use.Make(ctx) };
        Warn(choice, p, c, weights);
        return choice;
    }

    /// <summary>--class-weights: none, balanced (N / (K·count), sklearn's), or explicit w1,w2,…</summary>
    public static float[]? ClassWeights(Problem p, TrainConfig c)
    {
        if (c.ClassWeights == "none") return null;
        if (!p.IsClassLike) throw new UserError($"--class-weights applies to classification, not {p.Task}.");
        int k = p.NumClasses;
        if (c.ClassWeights == "balanced")
        {
            var counts = new int[k];
            foreach (var v in p.YTrain.ToInt64Array()) counts[v]++;
            int n = counts.Sum();
            return counts.Select(cnt => cnt == 0 ? 0f : (float)n / (k * cnt)).ToArray();
        }
        var parts = c.ClassWeights.Split(',');
        if (parts.Length != k) throw new UserError($"--class-weights: {parts.Length} values for {k} classes ({string.Join(", ", p.ClassNames)}).");
        return parts.Select(s => float.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var w) && w >= 0
            ? w : throw new UserError($"--class-weights: '{s}' is not a non-negative number.")).ToArray();
    }

    private static void Warn(LossChoice l, Problem p, TrainConfig c, float[]? weights)
    {
        if (p.IsClassLike && l.Name is "mse" or "l1" or "huber")
            l.Warnings.Add($"{l.Name} on class labels: it trains more slowly and gives poorer probabilities than cross-entropy, whose gradient does not vanish on confident mistakes (see `kindling compare`).");
        if (p.IsClassLike && weights == null && l.Name != "focal")
        {
            var counts = new int[p.NumClasses];
            foreach (var v in p.YTrain.ToInt64Array()) counts[v]++;
            int min = counts.Where(x => x > 0).DefaultIfEmpty(0).Min(), max = counts.Max();
            if (min > 0 && max >= 4 * min)
                l.Warnings.Add($"classes are imbalanced ({max} vs {min} samples); consider --class-weights balanced or --loss focal.");
        }
        if (p.Task == "regression" && l.Name == "mse" && p.YTrain.Rank == 1)
        {
            var y = p.YTrain.ToArray();
            double m = y.Average(v => (double)v), s = Math.Sqrt(y.Average(v => (v - m) * (v - m)));
            double frac = s == 0 ? 0 : y.Count(v => Math.Abs(v - m) > 4 * s) / (double)y.Length;
            if (frac > 0.005)
                l.Warnings.Add($"the target has heavy outliers ({frac:P1} beyond 4 standard deviations); MSE squares them — consider --loss huber.");
        }
    }
}
