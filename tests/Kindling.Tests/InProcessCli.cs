using System.Reflection;

namespace Kindling.Tests;

[CollectionDefinition("InProcessCli", DisableParallelization = true)]
public sealed class InProcessCliCollection;

/// <summary>
/// Runs kindling's Main inside the test process (no process start per call: a few milliseconds instead of a few hundred),
/// with stdout and stderr captured. Classes using it join the "InProcessCli" collection, which xunit runs after the
/// parallel ones, because Console and environment variables are process-wide.
/// </summary>
internal static class InProcessCli
{
    private static readonly Assembly Cli = Assembly.LoadFrom(CliDll());
    private static readonly MethodInfo Main = Cli.EntryPoint!;
    // In one process the Ctrl+C flag outlives a run (a process would start fresh): reset it before each call.
    private static readonly FieldInfo StopRequested = Cli.GetType("Kindling.Cli.Trainer")!.GetField("StopRequested")!;
    private static readonly object Gate = new();

    private static string CliDll()
    {
        var config = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
        return Path.Combine(Repo.Root, "src", "Kindling.Cli", "bin", config, "net10.0", "Kindling.Cli.dll");
    }

    /// <summary>The exit code and output; an exception escaping Main (what a user would see as a crash) is returned, not thrown.</summary>
    public static (CliTests.Result Result, Exception? Crash) RunCatching(string[] args, Dictionary<string, string>? env = null)
    {
        lock (Gate)
        {
            var (out0, err0) = (Console.Out, Console.Error);
            var (stdout, stderr) = (new StringWriter(), new StringWriter());
            Console.SetOut(stdout);
            Console.SetError(stderr);
            StopRequested.SetValue(null, false);
            if (env != null) foreach (var (k, v) in env) Environment.SetEnvironmentVariable(k, v);
            try { return (new CliTests.Result((int)Main.Invoke(null, [args])!, stdout.ToString(), stderr.ToString()), null); }
            catch (TargetInvocationException e) { return (new CliTests.Result(-1, stdout.ToString(), stderr + e.InnerException!.ToString()), e.InnerException); }
            finally
            {
                if (env != null) foreach (var k in env.Keys) Environment.SetEnvironmentVariable(k, null);
                Console.SetOut(out0);
                Console.SetError(err0);
            }
        }
    }

    public static CliTests.Result Run(string[] args, Dictionary<string, string>? env = null) => RunCatching(args, env).Result;
}
