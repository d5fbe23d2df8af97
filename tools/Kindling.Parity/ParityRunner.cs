using System.Text.Json;
using System.Text.Json.Nodes;
using Kindling.NN;
using Kindling.Registry;

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
            var y = Compute(loss, inputs, options);
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

    /// <summary>
    /// A case's options as the registry's typed values: numbers, booleans, strings and tensors by the option's kind in the
    /// loss's schema. An option the schema does not declare is an error naming it (never silently ignored).
    /// </summary>
    public static OptionValues ReadOptions(LossEntry entry, JsonObject o, Func<Tensor, Tensor>? mapTensor = null)
    {
        var given = new Dictionary<string, object?>();
        foreach (var (k, v) in o)
        {
            var spec = entry.Option(k) ?? throw new NotSupportedException($"parity: option '{k}' is not known for {entry.Name} (its options: {string.Join(", ", entry.Options.Select(s => s.Name))}).");
            given[k] = v == null ? null : spec.Kind switch
            {
                OptionKind.Number or OptionKind.Integer => v.GetValue<double>(),
                OptionKind.Bool => v.GetValue<bool>(),
                OptionKind.Choice or OptionKind.Text => v.GetValue<string>(),
                _ => mapTensor == null ? ReadTensor(v) : mapTensor(ReadTensor(v)),
            };
        }
        // The losses validate their options themselves, with messages the error cases check.
        return entry.Values(given, validateRanges: false);
    }

    /// <summary>The loss a case names (its PyTorch functional name), from the registry.</summary>
    public static LossEntry Entry(string loss) => Components.Losses.TryGet(loss, out var e) && e.Name == loss ? e
        : throw new NotSupportedException($"parity: unknown loss '{loss}' (the registry has: {string.Join(", ", Components.Losses.Names)}).");

    private static Tensor Compute(string loss, Dictionary<string, Tensor> inp, JsonObject options)
    {
        var entry = Entry(loss);
        var o = ReadOptions(entry, options);
        return entry.Functional(k => inp.TryGetValue(k, out var t) ? t : throw new KeyNotFoundException($"parity: {loss} needs an input named '{k}'."), o);
    }

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
