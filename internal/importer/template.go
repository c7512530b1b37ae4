package importer

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/statussync/statussync/config"
)

// cachet-monitor's incident templates are Go text/template sources executed
// on a map: SystemName, API, Monitor (the monitor's configuration), now (the
// time, formatted with date_format), FailReason (investigating only) and
// incident (fixed only); a TCP fork adds downSeconds. statussync's
// templates see config.IncidentData instead. translateTemplate rewrites the
// fields that have an equivalent and refuses the rest, so a translated
// template never fails to load.

// tmplContext is what a translation may use.
type tmplContext struct {
	monitor    string // the monitor whose template this is
	target     string // its target, as cachet-monitor printed {{.Monitor.Target}}
	typ        string // its type
	shared     bool   // the component has other monitors too
	systemName string // system_name, or "" when cachet-monitor used the host name
	dateFormat string // Go layout for {{.now}}
	end        bool   // {{.now}} is when the outage ended (fixed templates)
}

// translateTemplate returns src rewritten for statussync, and notes on
// translations that print something different from before. An error says
// what cannot be translated.
func translateTemplate(src string, c tmplContext) (string, []string, error) {
	t := parse.New("cachet-monitor")
	t.Mode = parse.SkipFuncCheck | parse.ParseComments
	tree, err := t.Parse(src, "", "", map[string]*parse.Tree{})
	if err != nil {
		return "", nil, fmt.Errorf("does not parse: %w", err)
	}
	tr := &translator{c: c, seen: map[string]bool{}}
	tr.list(tree.Root)
	if tr.err != nil {
		return "", nil, tr.err
	}
	out := tree.Root.String()
	if err := trialRender(out); err != nil {
		return "", nil, fmt.Errorf("does not render with statussync's data: %w", err)
	}
	return out, tr.notes, nil
}

// trialRender does what statussync's loader does with a template: parse it
// with missingkey=error and render it once with sample data.
func trialRender(src string) error {
	tmpl, err := template.New("t").Option("missingkey=error").Parse(src)
	if err != nil {
		return err
	}
	sample := config.IncidentData{
		Component: "Example", Status: "major outage",
		Start: time.Unix(1_700_000_000, 0).UTC(), End: time.Unix(1_700_003_600, 0).UTC(), Duration: time.Hour,
		Monitors: []string{"example"}, Reasons: map[string]string{"example": "HTTP 503"},
	}
	return tmpl.Execute(&bytes.Buffer{}, sample)
}

type translator struct {
	c     tmplContext
	err   error
	notes []string
	seen  map[string]bool
}

func (tr *translator) fail(format string, args ...any) {
	if tr.err == nil {
		tr.err = fmt.Errorf(format, args...)
	}
}

func (tr *translator) note(s string) {
	if !tr.seen[s] {
		tr.seen[s] = true
		tr.notes = append(tr.notes, s)
	}
}

func (tr *translator) list(l *parse.ListNode) {
	if l == nil {
		return
	}
	for i, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			tr.pipe(n.Pipe)
			if text, ok := literal(n.Pipe); ok {
				// {{"monitor-eu-1"}} reads better as monitor-eu-1.
				l.Nodes[i] = &parse.TextNode{NodeType: parse.NodeText, Text: []byte(text)}
			}
		case *parse.IfNode:
			tr.pipe(n.Pipe)
			tr.list(n.List)
			tr.list(n.ElseList)
		case *parse.RangeNode, *parse.WithNode:
			// Inside them dot is something else; fields cannot be mapped
			// without knowing what.
			tr.fail("uses range or with")
		case *parse.TemplateNode:
			tr.fail("calls another template")
		case *parse.TextNode, *parse.CommentNode:
		default:
			tr.fail("uses %s", n)
		}
	}
}

func (tr *translator) pipe(p *parse.PipeNode) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		tr.command(cmd)
	}
}

func (tr *translator) command(cmd *parse.CommandNode) {
	var args []parse.Node
	for _, arg := range cmd.Args {
		rep := tr.arg(arg)
		// A field alone in its command may become a whole command:
		// {{.now}} -> {{.Start.Format "..."}}, not {{(.Start.Format "...")}}.
		if p, ok := rep.(*parse.PipeNode); ok && len(cmd.Args) == 1 && len(p.Decl) == 0 && len(p.Cmds) == 1 && p != arg {
			args = append(args, p.Cmds[0].Args...)
			continue
		}
		args = append(args, rep)
	}
	cmd.Args = args
}

func (tr *translator) arg(n parse.Node) parse.Node {
	switch n := n.(type) {
	case *parse.FieldNode:
		return tr.field(n.Ident)
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			// Outside range and with, $ is dot.
			return tr.field(n.Ident[1:])
		}
		return n
	case *parse.PipeNode:
		tr.pipe(n)
		return n
	case *parse.ChainNode:
		if p, ok := n.Node.(*parse.PipeNode); ok {
			tr.pipe(p)
			return n
		}
		tr.fail("uses %s", n)
		return n
	case *parse.DotNode:
		tr.fail("prints the whole data ({{.}})")
		return n
	}
	return n
}

// field maps one cachet-monitor field reference.
func (tr *translator) field(ident []string) parse.Node {
	c := tr.c
	ref := "{{." + strings.Join(ident, ".") + "}}"
	switch {
	case len(ident) == 2 && ident[0] == "Monitor" && ident[1] == "Name":
		if c.shared {
			tr.note(ref + " now prints the component's name: the component has several monitors and one set of templates")
		}
		return fieldNode("Component")
	case len(ident) == 2 && ident[0] == "Monitor" && ident[1] == "Target":
		return stringNode(c.target)
	case len(ident) == 2 && ident[0] == "Monitor" && ident[1] == "Type":
		return stringNode(c.typ)
	case len(ident) == 1 && ident[0] == "SystemName":
		if c.systemName == "" {
			tr.fail("%s was the host name of the machine running cachet-monitor (set system_name to import it as text)", ref)
			return nil
		}
		return stringNode(c.systemName)
	case len(ident) == 1 && ident[0] == "now":
		at := "Start"
		if c.end {
			at = "End"
		}
		return pipeNode(fieldNode(at, "Format"), stringNode(c.dateFormat))
	case len(ident) == 1 && ident[0] == "FailReason":
		tr.note(ref + " now prints statussync's short reason (e.g. \"HTTP 503\"), not the raw error")
		return pipeNode(parse.NewIdentifier("index"), fieldNode("Reasons"), stringNode(c.monitor))
	case len(ident) == 1 && ident[0] == "downSeconds":
		return pipeNode(parse.NewIdentifier("printf"), stringNode("%.0f"), fieldNode("Duration", "Seconds"))
	case ident[0] == "incident":
		tr.fail("%s (the previous incident) has no equivalent", ref)
	case ident[0] == "API":
		tr.fail("%s (the API settings) has no equivalent", ref)
	case ident[0] == "Monitor":
		tr.fail("%s has no equivalent (only .Monitor.Name, .Target and .Type do)", ref)
	default:
		tr.fail("%s has no equivalent", ref)
	}
	return nil
}

// literal returns the text of a pipeline that is one string constant, when
// it can stand as template text.
func literal(p *parse.PipeNode) (string, bool) {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return "", false
	}
	s, ok := p.Cmds[0].Args[0].(*parse.StringNode)
	if !ok || strings.Contains(s.Text, "{{") || strings.Contains(s.Text, "}}") {
		return "", false
	}
	return s.Text, true
}

func fieldNode(ident ...string) *parse.FieldNode {
	return &parse.FieldNode{NodeType: parse.NodeField, Ident: ident}
}

func stringNode(s string) *parse.StringNode {
	return &parse.StringNode{NodeType: parse.NodeString, Quoted: strconv.Quote(s), Text: s}
}

func pipeNode(args ...parse.Node) *parse.PipeNode {
	return &parse.PipeNode{NodeType: parse.NodePipe, Cmds: []*parse.CommandNode{{NodeType: parse.NodeCommand, Args: args}}}
}
