using Kindling.NN;

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

    public static readonly Dictionary<string, string[]> ByTask = new()
    {
        ["classification"] = ["cross_entropy", "focal", "nll", "multi_margin", "mse", "l1", "huber"],
        ["binary"] = ["bce_with_logits", "focal", "cross_entropy", "mse", "l1", "soft_margin"],
        ["multilabel"] = ["bce_with_logits", "focal", "multilabel_soft_margin", "mse"],
        ["regression"] = ["mse", "l1", "huber", "smooth_l1", "poisson_nll"],
    };

    public static bool IsPoisson(string loss) => loss.ToLowerInvariant().Replace('-', '_') is "poisson" or "poisson_nll";

    public static LossChoice Choose(Problem p, TrainConfig c)
    {
        string task = p.Task;
        string name = c.Loss.ToLowerInvariant().Replace('-', '_') switch
        {
            "auto" => task switch { "classification" => "cross_entropy", "regression" => "mse", _ => "bce_with_logits" },
            "ce" or "crossentropy" or "cross_entropy" => "cross_entropy",
            "bce" or "bcewithlogits" or "bce_with_logits" or "binary_cross_entropy_with_logits" => "bce_with_logits",
            "mse" or "mse_loss" => "mse", "l1" or "mae" or "l1_loss" => "l1", "huber" or "huber_loss" => "huber",
            "smooth_l1" or "smooth_l1_loss" => "smooth_l1", "focal" or "sigmoid_focal" or "focal_loss" => "focal",
            "nll" or "nll_loss" => "nll", "multi_margin" or "hinge" => "multi_margin", "soft_margin" => "soft_margin",
            "multilabel_soft_margin" => "multilabel_soft_margin", "poisson" or "poisson_nll" => "poisson_nll",
            var other => other,
        };
        var allowed = ByTask[task];
        if (!allowed.Contains(name))
            throw new UserError($"--loss {c.Loss} does not fit a {task} task; use one of: {string.Join(", ", allowed)}.");
        int k = p.NumClasses;
        var weights = ClassWeights(p, c);
        double ls = c.LabelSmoothing;
        if (ls != 0 && name != "cross_entropy") throw new UserError($"--label-smoothing applies to cross_entropy only, not {name}.");
        bool auto = c.Loss == "auto";
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
        Tensor? wT = weights == null ? null : Tensor.FromArray(weights);

        Func<Tensor, Tensor, Tensor> fn;
        int outputs;
        switch (task, name)
        {
            case ("classification", "cross_entropy") or ("binary", "cross_entropy"):
                outputs = k; fn = (o, y) => Functional.CrossEntropy(o, y, wT, labelSmoothing: ls); break;
            case ("classification", "nll"):
                outputs = k; fn = (o, y) => Functional.NllLoss(o.LogSoftmax(1), y, wT); break;
            case ("classification", "focal"):
                outputs = k; fn = (o, y) => Functional.SoftmaxFocalLoss(o, y, wT); break;
            case ("classification", "multi_margin"):
                outputs = k; fn = (o, y) => Functional.MultiMarginLoss(o, y, weight: wT); break;
            case ("classification", "mse" or "l1" or "huber"):
                // Regression losses on class labels compare the softmax probabilities with one-hot targets.
                outputs = k;
                fn = (o, y) => Pointwise(name, o.Softmax(1), Tensor.OneHot(y, k).ToFloat32());
                break;
            case ("binary", "bce_with_logits"):
                outputs = 1;
                var pw = weights == null ? null : Tensor.FromArray(new[] { weights[1] / weights[0] });
                fn = (o, y) => Functional.BinaryCrossEntropyWithLogits(o, y.ToFloat32().Reshape(-1, 1), posWeight: pw); break;
            case ("binary", "focal"):
                outputs = 1; fn = (o, y) => Functional.SigmoidFocalLoss(o, y.ToFloat32().Reshape(-1, 1), reduction: Reduction.Mean); break;
            case ("binary", "soft_margin"):
                outputs = 1; fn = (o, y) => Functional.SoftMarginLoss(o, y.ToFloat32().Reshape(-1, 1) * 2 - 1); break;
            case ("binary", "mse" or "l1"):
                outputs = 1; fn = (o, y) => Pointwise(name, o.Sigmoid(), y.ToFloat32().Reshape(-1, 1)); break;
            case ("multilabel", "bce_with_logits"):
                outputs = p.YTrain.Size(1); fn = (o, y) => Functional.BinaryCrossEntropyWithLogits(o, y); break;
            case ("multilabel", "focal"):
                outputs = p.YTrain.Size(1); fn = (o, y) => Functional.SigmoidFocalLoss(o, y, reduction: Reduction.Mean); break;
            case ("multilabel", "multilabel_soft_margin"):
                outputs = p.YTrain.Size(1); fn = (o, y) => Functional.MultilabelSoftMarginLoss(o, y); break;
            case ("multilabel", "mse"):
                outputs = p.YTrain.Size(1); fn = (o, y) => Functional.MseLoss(o.Sigmoid(), y); break;
            case ("regression", "poisson_nll"):
                if (p.Prep.ScalesTargets) throw new UserError("--loss poisson_nll needs the raw, non-negative target counts, but the targets were standardised.");
                if (p.YTrain.ToArray().Any(v => v < 0)) throw new UserError("--loss poisson_nll models counts, but the target has negative values; use --loss mse or huber.");
                outputs = OutputsOf(p); fn = (o, y) => Functional.PoissonNllLoss(o, Shape(y, o)); break;
            case ("regression", _):
                outputs = OutputsOf(p); fn = (o, y) => Pointwise(name, o, Shape(y, o)); break;
            default:
                throw new UserError($"--loss {name} does not fit a {task} task; use one of: {string.Join(", ", allowed)}.");
        }
        var choice = new LossChoice { Name = name, Outputs = outputs, Why = why, Fn = fn };
        Warn(choice, p, c, weights);
        return choice;
    }

    private static int OutputsOf(Problem p) => p.YTrain.Rank == 1 ? 1 : p.YTrain.Size(1);
    private static Tensor Shape(Tensor y, Tensor o) => y.Rank == 1 ? y.Reshape(-1, 1) : y;

    private static Tensor Pointwise(string name, Tensor a, Tensor b) => name switch
    {
        "mse" => Functional.MseLoss(a, b),
        "l1" => Functional.L1Loss(a, b),
        "huber" => Functional.HuberLoss(a, b),
        _ => Functional.SmoothL1Loss(a, b),
    };

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
