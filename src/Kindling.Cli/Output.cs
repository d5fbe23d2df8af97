using Spectre.Console;

namespace Kindling.Cli;

/// <summary>Receives per-step progress inside an epoch.</summary>
public interface IProgressSink
{
    void StartEpoch(int epoch, int epochs, int batches);
    void Step(int done, double runningLoss, double samplesPerSec, TimeSpan eta);
    void Line(string text);
}

/// <summary>
/// Console output: Spectre.Console progress bars and tables on a terminal; plain lines without control characters
/// when the output is redirected (logs, CI), so the log reads the same as the screen minus the animation.
/// </summary>
public sealed class Output
{
    public bool Interactive { get; }
    public bool Quiet { get; init; }
    /// <summary>Where a training run's progress goes instead of this console (compare shows many runs in one display).</summary>
    public IProgressSink? Sink { get; init; }

    public Output(bool? interactive = null)
    {
        Interactive = interactive ?? (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive);
    }

    public void Info(string text)
    {
        if (Interactive) AnsiConsole.MarkupLine(Markup.Escape(text));
        else Console.WriteLine(text);
    }

    public void Warning(string text)
    {
        if (Interactive) AnsiConsole.MarkupLine("[yellow]warning:[/] " + Markup.Escape(text));
        else Console.WriteLine("warning: " + text);
    }

    public void WithProgress(Action<IProgressSink> body)
    {
        if (Sink != null) { body(Sink); return; }
        if (!Interactive || Quiet) { body(new PlainSink(this)); return; }
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx => body(new SpectreSink(ctx)));
    }

    public void Table(string title, IReadOnlyList<(string Key, string Value)> rows, string keyHeader = "metric", string valueHeader = "value")
    {
        if (Interactive)
        {
            var t = new Table().Title(Markup.Escape(title)).AddColumn(Markup.Escape(keyHeader)).AddColumn(new TableColumn(Markup.Escape(valueHeader)).RightAligned());
            foreach (var (k, v) in rows) t.AddRow(Markup.Escape(k), Markup.Escape(v));
            AnsiConsole.Write(t);
            return;
        }
        Console.WriteLine(title);
        int w = rows.Count == 0 ? 0 : rows.Max(r => r.Key.Length);
        foreach (var (k, v) in rows) Console.WriteLine($"  {k.PadRight(w)}  {v}");
    }

    public void Confusion(int[,] cm, string[] names)
    {
        int k = cm.GetLength(0);
        if (k > 20) { Info($"confusion matrix: {k}×{k} (see report.html)"); return; }
        if (Interactive)
        {
            var t = new Table().Title("confusion matrix (rows: true, columns: predicted)").AddColumn("");
            foreach (var n in names) t.AddColumn(new TableColumn(Markup.Escape(n)).RightAligned());
            for (int i = 0; i < k; i++) t.AddRow(new[] { Markup.Escape(names[i]) }.Concat(Enumerable.Range(0, k).Select(j => cm[i, j].ToString())).ToArray());
            AnsiConsole.Write(t);
            return;
        }
        Console.WriteLine("confusion matrix (rows: true, columns: predicted)");
        int w = Math.Max(names.Max(n => n.Length), Enumerable.Range(0, k).SelectMany(i => Enumerable.Range(0, k).Select(j => cm[i, j].ToString().Length)).Max());
        Console.WriteLine("  " + "".PadRight(w) + string.Concat(names.Select(n => " " + n.PadLeft(w))));
        for (int i = 0; i < k; i++)
            Console.WriteLine("  " + names[i].PadRight(w) + string.Concat(Enumerable.Range(0, k).Select(j => " " + cm[i, j].ToString().PadLeft(w))));
    }

    private sealed class PlainSink(Output o) : IProgressSink
    {
        public void StartEpoch(int epoch, int epochs, int batches) { }
        public void Step(int done, double runningLoss, double samplesPerSec, TimeSpan eta) { }
        public void Line(string text) { if (!o.Quiet) Console.WriteLine(text); }
    }

    /// <summary>
    /// One live progress line, reused from epoch to epoch (finished epochs become plain lines above it, not a stack of
    /// finished bars). The bar shows the running mean of this epoch's batch losses, measured in training mode while the
    /// weights change; the epoch line printed afterwards shows the loss of the whole training set evaluated once the
    /// epoch is done (eval mode). They are labelled so the two figures are not taken for one.
    /// </summary>
    private sealed class SpectreSink(ProgressContext ctx) : IProgressSink
    {
        private ProgressTask? _task;
        private int _epoch, _epochs;

        public void StartEpoch(int epoch, int epochs, int batches)
        {
            _epoch = epoch; _epochs = epochs;
            _task ??= ctx.AddTask($"epoch {epoch}/{epochs}", maxValue: Math.Max(batches, 1));
            _task.MaxValue = Math.Max(batches, 1);
            _task.Value = 0;
            _task.Description = $"epoch {epoch}/{epochs}";
        }

        public void Step(int done, double runningLoss, double samplesPerSec, TimeSpan eta)
        {
            if (_task == null) return;
            _task.Value = done;
            _task.Description = $"epoch {_epoch}/{_epochs}  running batch loss {runningLoss:F4}  {samplesPerSec:N0} samples/s  ETA {eta:mm\\:ss}";
        }

        public void Line(string text) => AnsiConsole.MarkupLine(Markup.Escape(text));
    }
}
