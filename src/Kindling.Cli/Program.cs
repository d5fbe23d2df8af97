using System.CommandLine;
using System.Globalization;
using Kindling.Cli;

// kindling: train, compare, evaluate, predict and export with Kindling from the command line.
// Exit codes: 0 success, 1 user error (one line on stderr), 2 usage error, 130 interrupted (checkpoint saved).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Console.CancelKeyPress += (_, e) =>
{
    if (Trainer.StopRequested) return; // a second Ctrl+C ends the process at once
    e.Cancel = true;
    Trainer.StopRequested = true;
    Console.Error.WriteLine("stopping after the current step (Ctrl+C again to abort)…");
};

var root = new RootCommand("kindling — train and compare neural networks with Kindling's PyTorch-exact losses.");
var train = Cli.TrainCommand();
root.Subcommands.Add(train);
root.Subcommands.Add(Cli.CompareCommand());
root.Subcommands.Add(Cli.EvalCommand());
root.Subcommands.Add(Cli.PredictCommand());
root.Subcommands.Add(ExportCommand.Create());

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var e in parsed.Errors) Console.Error.WriteLine("error: " + e.Message);
    Console.Error.WriteLine("Run 'kindling --help' (or 'kindling train --help') for usage.");
    return 2;
}
try
{
    // Our own handler below turns user errors into one line; programming errors keep their stack trace.
    return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
}
catch (UserError e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 1;
}
// Failures of the environment or of input files that no code path above anticipated (a disk that fills while a report is
// written, a file that vanishes mid-read, a malformed file a reader rejects) are still the user's to fix: one line, exit 1.
catch (Exception e) when (e is IOException or UnauthorizedAccessException or Kindling.Data.DataException or Kindling.IO.SafetensorsException)
{
    Console.Error.WriteLine("error: " + e.Message.ReplaceLineEndings(" "));
    return 1;
}
finally
{
    RunFolder.ReleaseLocks();
}
