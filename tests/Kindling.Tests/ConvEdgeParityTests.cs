using System.Text.Json.Nodes;
using Kindling.NN;
using F = Kindling.NN.Functional;

namespace Kindling.Tests;

/// <summary>
/// Issue 23: the convolution family's edge cases from PyTorch 1.13's own module_db/op_db samples that Kindling once
/// got wrong (tools/parity/gen_conv_edge_cases.py → tools/parity/conv_edge/cases.json): padding wider than the input
/// (an im2col crash, forward and backward), empty batches, negative pads in every mode, unbatched fold, negative
/// divisor_override, adaptive pooling with None; and the inputs PyTorch refuses, which Kindling must refuse too with a
/// message in the user's own 1-D terms.
/// </summary>
public class ConvEdgeParityTests
{
    private static readonly Lazy<JsonArray> Cases = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "tools", "parity", "conv_edge", "cases.json")))!["cases"]!.AsArray());

    public static IEnumerable<object[]> Values() => Cases.Value.Where(c => c!["error"] == null).Select(c => new object[] { c!["id"]!.GetValue<string>() });
    public static IEnumerable<object[]> Errors() => Cases.Value.Where(c => c!["error"] != null).Select(c => new object[] { c!["id"]!.GetValue<string>() });

    private static Tensor T(JsonNode n) => Tensor.FromArray(n["values"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray(), n["shape"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray());
    private static int I(JsonNode? v) => v!.GetValue<int>();
    private static Size2 S(JsonNode? v) => v is JsonArray a ? (a[0]!.GetValue<int>(), a[1]!.GetValue<int>()) : v!.GetValue<int>();
    private static ConvPadding P(JsonNode? v) => v == null ? 0 : v is JsonValue s && s.TryGetValue<string>(out var str) ? str : v is JsonArray ? S(v) : I(v);

    private static (Module? Module, Func<Tensor, Tensor> Run) Build(string op, JsonObject a)
    {
        switch (op)
        {
            case "conv1d":
            {
                var m = new Conv1d(I(a["in_channels"]), I(a["out_channels"]), I(a["kernel_size"]), a["stride"] == null ? 1 : I(a["stride"]), P(a["padding"]),
                    a["dilation"] == null ? 1 : I(a["dilation"]), dtype: DType.Float64);
                return (m, m.Call);
            }
            case "conv2d":
            {
                var m = new Conv2d(I(a["in_channels"]), I(a["out_channels"]), S(a["kernel_size"]), padding: P(a["padding"]), dtype: DType.Float64);
                return (m, m.Call);
            }
            case "batch_norm2d":
            {
                var m = new BatchNorm2d(I(a["num_features"]), dtype: DType.Float64);
                if (!a["training"]!.GetValue<bool>()) m.Eval();
                return (m, m.Call);
            }
            case "batch_norm_fn": return (null, x => F.BatchNorm(x, null, null, training: true));
            case "pad": return (null, x => F.Pad(x, a["pad"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray(), a["mode"]!.GetValue<string>()));
            case "fold": return (null, x => F.Fold(x, S(a["output_size"]), S(a["kernel_size"])));
            case "avg_pool2d": return (null, x => F.AvgPool2d(x, S(a["kernel_size"]), divisorOverride: I(a["divisor_override"])));
            case "adaptive_avg_pool2d_none":
            {
                var s = a["output_size"]!.AsArray();
                var m = new AdaptiveAvgPool2d(s[0]?.GetValue<int>(), s[1]?.GetValue<int>());
                return (m, m.Call);
            }
            case "max_pool1d": return (null, x => F.MaxPool1d(x, I(a["kernel_size"])));
            default: throw new ArgumentException(op);
        }
    }

    private static JsonObject Case(string id) => Cases.Value.First(c => c!["id"]!.GetValue<string>() == id)!.AsObject();

    [Theory]
    [MemberData(nameof(Values))]
    public void OutputAndInputGradientMatchPyTorch(string id)
    {
        var c = Case(id);
        var (module, run) = Build(c["op"]!.GetValue<string>(), c["args"]!.AsObject());
        var ps = c["params"]!.AsObject();
        if (module != null && ps.Count > 0) module.LoadStateDict(ps.ToDictionary(kv => kv.Key, kv => T(kv.Value!)), strict: false);
        var x = T(c["input"]!).RequiresGrad_();
        var y = run(x);
        Compare(T(c["out"]!), y, id + " output");
        if (y.NumEl > 0)
        {
            (y * T(c["gout"]!)).Sum().Backward();
            Compare(T(c["grad"]!), x.Grad!, id + " input gradient");
        }
    }

    [Theory]
    [MemberData(nameof(Errors))]
    public void InputsPyTorchRefusesAreRefused(string id)
    {
        var c = Case(id);
        var e = Assert.ThrowsAny<ArgumentException>(() => { var (_, run) = Build(c["op"]!.GetValue<string>(), c["args"]!.AsObject()); run(T(c["input"]!)); });
        // The message speaks of the user's own 1-D arguments, never the internal 2-D geometry.
        Assert.DoesNotContain("kernel size (1", e.Message);
        Assert.DoesNotContain("padding (0, ", e.Message);
        Assert.DoesNotContain("×", e.Message);
        Assert.DoesNotContain("inChannels", e.Message);
    }

    [Fact]
    public void OneDimensionalMessagesNameTheUsersArguments()
    {
        Assert.Contains("stride must be positive, got -1", Assert.ThrowsAny<ArgumentException>(() => new Conv1d(4, 4, 3, stride: -1)).Message);
        Assert.Contains("stride", Assert.ThrowsAny<ArgumentException>(() => new Conv1d(4, 4, 3, stride: -1)).ParamName);
        var w = Tensor.Zeros(4, 4, 3);
        Assert.Contains("input length 2 is shorter than the kernel_size 3", Assert.ThrowsAny<ArgumentException>(() => F.Conv1d(Tensor.Zeros(1, 4, 2), w)).Message);
        Assert.Contains("has length 0", Assert.ThrowsAny<ArgumentException>(() => F.Conv1d(Tensor.Zeros(1, 4, 0), w)).Message);
        Assert.Contains("padding (3) must be between 0 and half the kernel_size", Assert.ThrowsAny<ArgumentException>(() => F.MaxPool1d(Tensor.Zeros(1, 2, 8), 2, padding: 3)).Message);
    }

    private static void Compare(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.ToDoubleArray();
        var a = actual.ToDoubleArray();
        double scale = 1 + e.Select(Math.Abs).DefaultIfEmpty(0).Max();
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= 1e-10 * scale, $"{what}[{i}]: PyTorch {e[i]:R}, Kindling {a[i]:R}");
    }
}
