using System.Text.Json.Nodes;
using Kindling.IO;
using Kindling.NN;
using F = Kindling.NN.Functional;

namespace Kindling.Tests;

/// <summary>
/// Convolution, pooling, padding, fold/unfold and BatchNorm2d against PyTorch 1.13's own numbers
/// (tools/parity/gen_conv_cases.py → tools/parity/conv): forward values and every gradient, computed in float64 on both
/// sides from the same float32 inputs (so they must agree to ~1e-10), and again in float32 within rounding.
/// </summary>
public class ConvParityTests
{
    private static readonly string Dir = Path.Combine(Repo.Root, "tools", "parity", "conv");
    private static readonly Lazy<JsonArray> Cases = new(() => JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "cases.json")))!["cases"]!.AsArray());
    private static readonly Lazy<IReadOnlyDictionary<string, Tensor>> T = new(() => Safetensors.Load(Path.Combine(Dir, "tensors.safetensors")).Tensors);

    public static IEnumerable<object[]> Ids() => Cases.Value.Select(c => new object[] { c!["id"]!.GetValue<string>() });

    private static Size2 S(JsonNode? v) => v is JsonArray a ? (a[0]!.GetValue<int>(), a[1]!.GetValue<int>()) : v!.GetValue<int>();
    private static Size2? SN(JsonNode? v) => v == null ? null : S(v);
    private static ConvPadding P(JsonNode? v) => v is JsonValue s && s.TryGetValue<string>(out var str) ? str : S(v);
    private static int I(JsonNode? v) => v!.GetValue<int>();

    /// <summary>Builds the case's operation: a module (whose parameters are loaded) or a function of the input.</summary>
    private static (Module? Module, Func<Tensor, Tensor> Run) Build(string op, JsonObject a, DType dt)
    {
        switch (op)
        {
            case "conv2d":
            {
                var m = new Conv2d(I(a["in_channels"]), I(a["out_channels"]), S(a["kernel_size"]), S(a["stride"]), P(a["padding"]), S(a["dilation"]),
                    I(a["groups"]), a["bias"]!.GetValue<bool>(), a["padding_mode"]!.GetValue<string>(), dtype: dt);
                return (m, m.Call);
            }
            case "conv1d":
            {
                var m = new Conv1d(I(a["in_channels"]), I(a["out_channels"]), I(a["kernel_size"]), I(a["stride"]), P(a["padding"]), I(a["dilation"]),
                    I(a["groups"]), a["bias"]!.GetValue<bool>(), a["padding_mode"]!.GetValue<string>(), dtype: dt);
                return (m, m.Call);
            }
            case "conv_transpose2d":
            {
                var m = new ConvTranspose2d(I(a["in_channels"]), I(a["out_channels"]), S(a["kernel_size"]), S(a["stride"]), S(a["padding"]),
                    S(a["output_padding"]), I(a["groups"]), a["bias"]!.GetValue<bool>(), S(a["dilation"]), dtype: dt);
                return (m, m.Call);
            }
            case "max_pool2d":
            {
                var m = new MaxPool2d(S(a["kernel_size"]), SN(a["stride"]), S(a["padding"]), S(a["dilation"]), a["ceil_mode"]!.GetValue<bool>());
                return (m, m.Call);
            }
            case "max_pool1d":
            {
                var m = new MaxPool1d(I(a["kernel_size"]), a["stride"] == null ? null : I(a["stride"]), I(a["padding"]), I(a["dilation"]), a["ceil_mode"]!.GetValue<bool>());
                return (m, m.Call);
            }
            case "avg_pool2d":
            {
                var m = new AvgPool2d(S(a["kernel_size"]), SN(a["stride"]), S(a["padding"]), a["ceil_mode"]!.GetValue<bool>(), a["count_include_pad"]!.GetValue<bool>(),
                    a["divisor_override"] == null ? null : I(a["divisor_override"]));
                return (m, m.Call);
            }
            case "adaptive_avg_pool2d":
            {
                var m = new AdaptiveAvgPool2d(S(a["output_size"]));
                return (m, m.Call);
            }
            case "batch_norm2d":
            {
                var m = new BatchNorm2d(I(a["num_features"]), momentum: a["momentum"]?.GetValue<double>(), affine: a["affine"]!.GetValue<bool>(), dtype: dt);
                return (m, m.Call);
            }
            case "pad":
                return (null, x => F.Pad(x, a["pad"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray(), a["mode"]!.GetValue<string>(), a["value"]!.GetValue<double>()));
            case "unfold":
                return (null, x => F.Unfold(x, S(a["kernel_size"]), S(a["dilation"]), S(a["padding"]), S(a["stride"])));
            case "fold":
                return (null, x => F.Fold(x, S(a["output_size"]), S(a["kernel_size"]), S(a["dilation"]), S(a["padding"]), S(a["stride"])));
            default:
                throw new ArgumentException(op);
        }
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Float64MatchesPyTorch(string id) => Run(id, DType.Float64, 1e-10);

    [Theory]
    [MemberData(nameof(Ids))]
    public void Float32MatchesPyTorch(string id) => Run(id, DType.Float32, 2e-5);

    private static void Run(string id, DType dt, double tol)
    {
        var c = Cases.Value.First(v => v!["id"]!.GetValue<string>() == id)!.AsObject();
        var op = c["op"]!.GetValue<string>();
        var (module, run) = Build(op, c["args"]!.AsObject(), dt);
        var tensors = T.Value;
        var paramNames = c["params"]!.AsArray().Select(v => v!.GetValue<string>()).ToList();
        if (module != null && paramNames.Count > 0)
            module.LoadStateDict(paramNames.ToDictionary(n => n, n => tensors[$"{id}.{n}"]), strict: false);
        if (op == "batch_norm2d")
            for (int s = 0; s < 2; s++)
            {
                var ys = run(tensors[$"{id}.step{s}.input"].To(dt));
                Compare(tensors[$"{id}.step{s}.out"], ys, $"{id} training step {s} output", tol);
            }
        var x = tensors[$"{id}.input"].Detach().To(dt).RequiresGrad_();
        var y = run(x);
        Compare(tensors[$"{id}.out"], y, $"{id} output", tol);
        (y * tensors[$"{id}.gout"].To(dt)).Sum().Backward();
        Compare(tensors[$"{id}.grad.input"], x.Grad!, $"{id} input gradient", tol);
        if (module != null)
            foreach (var (name, p) in module.NamedParameters())
                Compare(tensors[$"{id}.grad.{name}"], p.Grad!, $"{id} {name} gradient", tol);
        if (op is "max_pool2d" or "max_pool1d")
        {
            var idx = op == "max_pool2d" ? ((MaxPool2d)module!).ForwardWithIndices(x).Indices : ((MaxPool1d)module!).ForwardWithIndices(x).Indices;
            Assert.Equal(tensors[$"{id}.indices"].ToInt64Array(), idx.ToInt64Array());
        }
        if (op == "batch_norm2d")
        {
            var bn = (BatchNorm2d)module!;
            Compare(tensors[$"{id}.running_mean"], bn.RunningMean!, $"{id} running_mean", tol);
            Compare(tensors[$"{id}.running_var"], bn.RunningVar!, $"{id} running_var", tol);
            Assert.Equal(tensors[$"{id}.num_batches_tracked"].ToInt64Array(), bn.NumBatchesTracked!.ToInt64Array());
            bn.Eval();
            Compare(tensors[$"{id}.eval.out"], bn.Call(tensors[$"{id}.eval.input"].To(dt)), $"{id} evaluation output", tol);
        }
    }

    /// <summary>Element-wise |a − e| ≤ tol·(1 + max|e|): rounding error scales with the magnitudes summed.</summary>
    private static void Compare(Tensor expected, Tensor actual, string what, double tol)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.ToDoubleArray();
        var a = actual.ToDoubleArray();
        double scale = 1 + e.Select(Math.Abs).DefaultIfEmpty(0).Max();
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= tol * scale, $"{what}[{i}]: PyTorch {e[i]:R}, Kindling {a[i]:R} (scale {scale:G3})");
    }
}
