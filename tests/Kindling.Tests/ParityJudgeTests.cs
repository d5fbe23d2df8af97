using System.Text.Json.Nodes;
using Kindling.Parity;

namespace Kindling.Tests;

/// <summary>
/// The parity judge itself: small values are judged relatively (floor 8·ε₃₂ × the tensor's largest |value|, not an
/// absolute 1e-5), and an error case passes only when the message gives the expected reason.
/// </summary>
public class ParityJudgeTests
{
    private static JsonObject T(params double[] v) => new()
    {
        ["shape"] = new JsonArray(JsonValue.Create(v.Length)), ["dtype"] = "float32",
        ["data"] = new JsonArray(v.Select(x => (JsonNode)JsonValue.Create(x)).ToArray()),
    };

    private static string? Judge(double[] exact, double[] mine, double[]? torch32 = null)
    {
        var c = new JsonObject { ["id"] = "x", ["expected"] = new JsonObject { ["loss"] = T(exact) } };
        if (torch32 != null) c["expected"]!["loss32"] = T(torch32);
        return ParityRunner.Judge(c, new JsonObject { ["id"] = "x", ["loss"] = T(mine), ["grads"] = new JsonObject() });
    }

    [Fact]
    public void SmallValuesAreJudgedRelatively()
    {
        // 1 % wrong on a value of 1e-4: the old absolute floor (1e-5) let it pass.
        Assert.NotNull(Judge([1e-4], [1.01e-4]));
        // A value below 1e-5 beside a largest one of 1e-3 must be right to about 1e-3/1e-6 · 8ε ≈ 0.1 %.
        Assert.NotNull(Judge([1e-3, 1e-6], [1e-3, 1.01e-6]));
        Assert.Null(Judge([1e-3, 1e-6], [1e-3, 1.0005e-6]));
        // Within 1e-4 relative passes at any size.
        Assert.Null(Judge([3e-9], [3.0002e-9]));
        // Beside a large sibling, float32 cannot resolve more than ε·max: the floor allows that much.
        Assert.Null(Judge([10, 1e-7], [10, 1e-7 + 5e-6]));
        Assert.NotNull(Judge([10, 1e-7], [10, 1e-7 + 2e-5]));
        // PyTorch's own float32 error, 4×, remains a way to pass (the contract's second clause).
        Assert.Null(Judge([1e-8], [1.1e-8], torch32: [1.03e-8]));
    }

    private static string? JudgeError(JsonNode? contains, string message)
    {
        var exp = new JsonObject { ["error"] = true, ["why"] = "torch's own words" };
        if (contains != null) exp["error_contains"] = contains;
        var c = new JsonObject { ["id"] = "e", ["expected"] = exp };
        return ParityRunner.Judge(c, new JsonObject { ["id"] = "e", ["error"] = message, ["error_type"] = "ArgumentException" });
    }

    [Fact]
    public void ErrorCasesCheckTheReason()
    {
        const string msg = "cross_entropy: target 3 is out of range for 3 classes (valid: 0..2, or ignore_index -100).";
        Assert.Null(JudgeError(new JsonArray("target 3", "OUT OF RANGE"), msg));
        Assert.Null(JudgeError(JsonValue.Create("out of range"), msg));
        Assert.Contains("\"weight\"", JudgeError(new JsonArray("target 3", "weight"), msg));
        // Without error_contains (the shared contract's cases) any rejection with a message passes, as before.
        Assert.Null(JudgeError(null, msg));
    }

    [Fact]
    public void EveryGeneratedErrorCaseNamesItsReason()
    {
        int n = 0;
        foreach (var f in Directory.GetFiles(Path.Combine(Repo.Root, "tools", "parity", "cases"), "*.jsonl"))
            foreach (var line in File.ReadLines(f))
            {
                var exp = JsonNode.Parse(line)!["expected"]!;
                if (exp["error"]?.GetValue<bool>() != true) continue;
                Assert.True(exp["error_contains"] is JsonArray { Count: > 0 }, $"{Path.GetFileName(f)}: {JsonNode.Parse(line)!["id"]} has no error_contains");
                n++;
            }
        Assert.True(n >= 90, $"only {n} error cases");
    }
}
