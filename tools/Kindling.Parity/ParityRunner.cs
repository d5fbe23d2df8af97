using System.Text.Json;
using System.Text.Json.Nodes;
using Kindling.NN;

namespace Kindling.Parity;

/// <summary>
/// Runs loss cases in the format of shared/parity/loss-cases.md through Kindling's public functional API and judges
/// results with that contract's tolerance rule. Shared by the parity tool and the test suite.
/// </summary>
public static class ParityRunner
{
    public static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Computes one case; returns the result object (loss and grads, or error).</summary>
    public static JsonObject Run(JsonObject c)
    {
        var id = c["id"]?.GetValue<string>() ?? "";
        var result = new JsonObject { ["id"] = id };
        try
        {
            var loss = c["loss"]?.GetValue<string>() ?? throw new FormatException("case has no \"loss\"");
            var inputs = new Dictionary<string, Tensor>();
            foreach (var (name, node) in (c["inputs"] as JsonObject) ?? throw new FormatException("case has no \"inputs\""))
            {
                var t = ReadTensor(node!);
                if (t.DType == DType.Float32) t.RequiresGrad = true;
                inputs[name] = t;
            }
            var options = (c["options"] as JsonObject) ?? new JsonObject();
            var y = Compute(loss, inputs, new Options(loss, options));
            result["loss"] = WriteTensor(y);
            var grads = new JsonObject();
            if (y.RequiresGrad)
            {
                y.Sum().Backward();
                foreach (var (name, t) in inputs)
                    if (t.Grad != null) grads[name] = WriteTensor(t.Grad);
            }
            result["grads"] = grads;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or NotSupportedException or KeyNotFoundException)
        {
            result = new JsonObject { ["id"] = id, ["error"] = e.Message, ["error_type"] = e.GetType().Name };
        }
        return result;
    }

    private sealed class Options(string loss, JsonObject o)
    {
        private readonly HashSet<string> _used = [];
        public double Num(string k, double d) { _used.Add(k); return o[k] is JsonNode n ? n.GetValue<double>() : d; }
        public bool Bool(string k, bool d) { _used.Add(k); return o[k] is JsonNode n ? n.GetValue<bool>() : d; }
        public string Str(string k, string d) { _used.Add(k); return o[k] is JsonNode n ? n.GetValue<string>() : d; }
        public Tensor? Tensor(string k) { _used.Add(k); return o[k] is JsonNode n ? ReadTensor(n) : null; }
        public Reduction Red(string d = "mean") { _used.Add("reduction"); return Reductions.Parse(o["reduction"]?.GetValue<string>() ?? d, loss); }
        public void Done()
        {
            foreach (var (k, _) in o)
                if (!_used.Contains(k)) throw new NotSupportedException($"parity: option '{k}' is not known for {loss}.");
        }
    }

    private static Tensor Compute(string loss, Dictionary<string, Tensor> inp, Options o)
    {
        Tensor In(string k) => inp.TryGetValue(k, out var t) ? t : throw new KeyNotFoundException($"parity: {loss} needs an input named '{k}'.");
        Tensor y = loss switch
        {
            "cross_entropy" => Functional.CrossEntropy(In("input"), In("target"), o.Tensor("weight"), (long)o.Num("ignore_index", -100), o.Red(), o.Num("label_smoothing", 0)),
            "nll_loss" => Functional.NllLoss(In("input"), In("target"), o.Tensor("weight"), (long)o.Num("ignore_index", -100), o.Red()),
            "binary_cross_entropy" => Functional.BinaryCrossEntropy(In("input"), In("target"), o.Tensor("weight"), o.Red()),
            "binary_cross_entropy_with_logits" => Functional.BinaryCrossEntropyWithLogits(In("input"), In("target"), o.Tensor("weight"), o.Tensor("pos_weight"), o.Red()),
            "mse_loss" => Functional.MseLoss(In("input"), In("target"), o.Red()),
            "l1_loss" => Functional.L1Loss(In("input"), In("target"), o.Red()),
            "smooth_l1_loss" => Functional.SmoothL1Loss(In("input"), In("target"), o.Red(), o.Num("beta", 1.0)),
            "huber_loss" => Functional.HuberLoss(In("input"), In("target"), o.Red(), o.Num("delta", 1.0)),
            "kl_div" => Functional.KLDiv(In("input"), In("target"), o.Red(), o.Bool("log_target", false)),
            "poisson_nll_loss" => Functional.PoissonNllLoss(In("input"), In("target"), o.Bool("log_input", true), o.Bool("full", false), o.Num("eps", 1e-8), o.Red()),
            "gaussian_nll_loss" => Functional.GaussianNllLoss(In("input"), In("target"), In("var"), o.Bool("full", false), o.Num("eps", 1e-6), o.Red()),
            "soft_margin_loss" => Functional.SoftMarginLoss(In("input"), In("target"), o.Red()),
            "multilabel_soft_margin_loss" => Functional.MultilabelSoftMarginLoss(In("input"), In("target"), o.Tensor("weight"), o.Red()),
            "hinge_embedding_loss" => Functional.HingeEmbeddingLoss(In("input"), In("target"), o.Num("margin", 1.0), o.Red()),
            "margin_ranking_loss" => Functional.MarginRankingLoss(In("input1"), In("input2"), In("target"), o.Num("margin", 0), o.Red()),
            "cosine_embedding_loss" => Functional.CosineEmbeddingLoss(In("input1"), In("input2"), In("target"), o.Num("margin", 0), o.Red()),
            "multi_margin_loss" => Functional.MultiMarginLoss(In("input"), In("target"), (int)o.Num("p", 1), o.Num("margin", 1), o.Tensor("weight"), o.Red()),
            "multilabel_margin_loss" => Functional.MultilabelMarginLoss(In("input"), In("target"), o.Red()),
            "triplet_margin_loss" => Functional.TripletMarginLoss(In("anchor"), In("positive"), In("negative"), o.Num("margin", 1.0), o.Num("p", 2), o.Num("eps", 1e-6), o.Bool("swap", false), o.Red()),
            "triplet_margin_with_distance_loss" => Functional.TripletMarginWithDistanceLoss(In("anchor"), In("positive"), In("negative"),
                Distance(o.Str("distance_function", "pairwise_distance")), o.Num("margin", 1.0), o.Bool("swap", false), o.Red()),
            "softmax_focal_loss" => Functional.SoftmaxFocalLoss(In("input"), In("target"), o.Tensor("alpha"), o.Num("gamma", 2), (long)o.Num("ignore_index", -100), o.Red()),
            "ctc_loss" => Functional.CtcLoss(In("log_probs"), In("targets"), In("input_lengths"), In("target_lengths"), (int)o.Num("blank", 0), o.Red(), o.Bool("zero_infinity", false)),
            "sigmoid_focal_loss" => Functional.SigmoidFocalLoss(In("input"), In("target"), o.Num("alpha", 0.25), o.Num("gamma", 2), o.Red("none")),
            _ => throw new NotSupportedException($"parity: unknown loss '{loss}'."),
        };
        o.Done();
        return y;
    }

    /// <summary>The distance functions a case file can name for triplet_margin_with_distance_loss (it cannot hold a callable).</summary>
    private static Func<Tensor, Tensor, Tensor>? Distance(string name) => name switch
    {
        "pairwise_distance" => null, // the default: Euclidean PairwiseDistance
        "pairwise_distance_p1" => (a, b) => Functional.PairwiseDistance(a, b, 1),
        _ => throw new NotSupportedException($"parity: unknown distance_function '{name}' (known: pairwise_distance, pairwise_distance_p1)."),
    };

    public static Tensor ReadTensor(JsonNode node)
    {
        var shape = node["shape"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
        var dtype = node["dtype"]?.GetValue<string>() ?? "float32";
        var data = node["data"]!.AsArray();
        if (dtype == "int64") return Tensor.FromArray(data.Select(v => v!.GetValue<long>()).ToArray(), shape.Length == 0 ? [] : shape).Reshape(shape);
        if (dtype != "float32" && dtype != "float64") throw new FormatException($"parity: unsupported dtype '{dtype}'.");
        var vals = data.Select(Num).ToArray();
        var t = Tensor.FromArray(vals, shape.Length == 0 ? [vals.Length] : shape).Reshape(shape);
        return dtype == "float32" ? t.ToFloat32() : t;
    }

    private static double Num(JsonNode? v)
    {
        if (v is JsonValue jv && jv.TryGetValue<string>(out var s))
            return s switch { "NaN" => double.NaN, "Infinity" => double.PositiveInfinity, "-Infinity" => double.NegativeInfinity, _ => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture) };
        return v!.GetValue<double>();
    }

    public static double[] Values(JsonNode node) => node["data"]!.AsArray().Select(Num).ToArray();

    public static JsonObject WriteTensor(Tensor t)
    {
        var arr = new JsonArray();
        foreach (var v in t.ToDoubleArray())
            arr.Add(double.IsNaN(v) ? JsonValue.Create("NaN") : double.IsPositiveInfinity(v) ? JsonValue.Create("Infinity") : double.IsNegativeInfinity(v) ? JsonValue.Create("-Infinity") : JsonValue.Create(v));
        return new JsonObject
        {
            ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)JsonValue.Create(d)).ToArray()),
            ["dtype"] = t.DType == DType.Int64 ? "int64" : "float32",
            ["data"] = arr,
        };
    }

    /// <summary>Judges a result against its case by the contract's rule; null when it passes, else why not.</summary>
    public static string? Judge(JsonObject c, JsonObject r)
    {
        var exp = c["expected"] as JsonObject ?? throw new FormatException("case has no expected");
        if (exp["error"]?.GetValue<bool>() == true)
        {
            if (r["error"] == null) return "expected the input to be rejected, but Kindling computed a loss";
            var type = r["error_type"]?.GetValue<string>();
            if (type != null && !type.EndsWith("ArgumentException") && type != nameof(ArgumentOutOfRangeException))
                return $"rejected, but with {type} rather than an ArgumentException: {r["error"]}";
            // The reason, not just the rejection: every fragment of expected.error_contains (an optional extension of
            // the contract) must appear in the message, ignoring case.
            var message = r["error"]!.GetValue<string>();
            foreach (var fragment in Fragments(exp["error_contains"]))
                if (!message.Contains(fragment, StringComparison.OrdinalIgnoreCase))
                    return $"rejected for another reason than expected: the message does not mention \"{fragment}\": {message}";
            return null;
        }
        if (r["error"] != null) return $"Kindling rejected a valid case: {r["error"]}";
        var why = Compare("loss", exp["loss"]!, exp["loss32"], r["loss"]);
        if (why != null) return why;
        if (exp["grads"] is JsonObject grads)
            foreach (var (name, g) in grads)
            {
                var mine = (r["grads"] as JsonObject)?[name];
                var w2 = Compare($"grad {name}", g!, (exp["grads32"] as JsonObject)?[name], mine);
                if (w2 != null) return w2;
            }
        return null;
    }

    private static IEnumerable<string> Fragments(JsonNode? node) => node switch
    {
        null => [],
        JsonArray a => a.Select(v => v!.GetValue<string>()),
        _ => [node.GetValue<string>()],
    };

    /// <summary>float32's relative resolution, 2⁻²³.</summary>
    private const double Eps32 = 1.1920928955078125e-7;

    /// <summary>
    /// The judge's rule for one tensor. An element passes when |Kindling − exact| ≤ 1e-4·|exact| + 8·ε₃₂·S, where S is
    /// the largest finite |exact| in the same tensor (an element computed from the same terms as its largest sibling
    /// carries float32 rounding of that size: below 8·ε₃₂·S float32 cannot resolve it), or when it is no further from
    /// the exact value than 4 × PyTorch's own float32 answer is (the contract's second clause). Unlike the contract's
    /// absolute 1e-5, this judges small values relatively: a gradient of 1e-6 beside a largest one of 0.1 must be right
    /// to about 1 %, and one of 1e-6 in a tensor whose largest is 1e-6 to 1e-4.
    /// </summary>
    private static string? Compare(string what, JsonNode exact, JsonNode? torch32, JsonNode? mine)
    {
        if (mine == null) return $"{what}: missing";
        var e = Values(exact);
        var m = Values(mine);
        var t = torch32 != null ? Values(torch32) : null;
        var es = exact["shape"]!.AsArray().Select(v => v!.GetValue<int>());
        var ms = mine["shape"]!.AsArray().Select(v => v!.GetValue<int>());
        if (!es.SequenceEqual(ms)) return $"{what}: shape ({string.Join(", ", ms)}) but expected ({string.Join(", ", es)})";
        double scale = e.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max();
        for (int i = 0; i < e.Length; i++)
        {
            double ev = e[i], mv = m[i];
            if (double.IsNaN(ev) || double.IsNaN(mv))
            {
                if (double.IsNaN(ev) && double.IsNaN(mv)) continue;
                return $"{what}[{i}]: {mv} but expected {ev}";
            }
            if (double.IsInfinity(ev) || double.IsInfinity(mv))
            {
                if (ev == mv) continue;
                return $"{what}[{i}]: {mv} but expected {ev}";
            }
            double err = Math.Abs(mv - ev);
            if (err <= 1e-4 * Math.Abs(ev) + 8 * Eps32 * scale) continue;
            if (t != null && err <= 4 * Math.Abs(t[i] - ev)) continue;
            return $"{what}[{i}]: {mv:R} but expected {ev:R} (PyTorch float32: {(t != null ? t[i].ToString("R") : "n/a")}; allowed {1e-4 * Math.Abs(ev) + 8 * Eps32 * scale:E2}, largest |value| {scale:E2})";
        }
        return null;
    }
}
