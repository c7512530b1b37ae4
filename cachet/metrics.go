package cachet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Metric is a Cachet metric (reference §3.6).
type Metric struct {
	ID           int
	Name         string
	Suffix       string
	Description  string
	DefaultValue float64
	CalcType     MetricCalcType
	DisplayChart bool
	Places       int
	DefaultView  int
	// Threshold is the bucket width in minutes: points posted within it of
	// the newest point are merged into that point (see PostMetricPoint).
	Threshold int
	Order     int
	Visible   Visibility
	CreatedAt time.Time
	UpdatedAt time.Time
}

type metricAttributes struct {
	Name         string         `json:"name"`
	Suffix       string         `json:"suffix"`
	Description  string         `json:"description"`
	DefaultValue flexFloat      `json:"default_value"`
	CalcType     MetricCalcType `json:"calc_type"`
	DisplayChart *flexBool      `json:"display_chart"`
	Places       flexInt        `json:"places"`
	DefaultView  flexInt        `json:"default_view"`
	Threshold    flexInt        `json:"threshold"`
	Order        flexInt        `json:"order"`
	Visible      *Visibility    `json:"visible"`
	Created      wireTime       `json:"created"`
	CreatedAt    wireTime       `json:"created_at"`
	Updated      wireTime       `json:"updated"`
	UpdatedAt    wireTime       `json:"updated_at"`
}

func (c *Client) decodeMetric(r resource) (Metric, error) {
	var a metricAttributes
	if err := json.Unmarshal(r.Attributes, &a); err != nil {
		return Metric{}, fmt.Errorf("decode metric %d: %w", r.ID, err)
	}
	m := Metric{
		ID:           r.ID,
		Name:         a.Name,
		Suffix:       a.Suffix,
		Description:  a.Description,
		DefaultValue: float64(a.DefaultValue),
		CalcType:     a.CalcType,
		DisplayChart: a.DisplayChart == nil || bool(*a.DisplayChart),
		Places:       int(a.Places),
		DefaultView:  int(a.DefaultView),
		Threshold:    int(a.Threshold),
		Order:        int(a.Order),
		Visible:      VisibilityGuest,
		CreatedAt:    c.time(a.Created.orTime(a.CreatedAt)),
		UpdatedAt:    c.time(a.Updated.orTime(a.UpdatedAt)),
	}
	if a.Visible != nil {
		m.Visible = *a.Visible
	}
	return m, nil
}

// ListMetrics returns every metric the caller can see (guests see public
// metrics only), newest first.
func (c *Client) ListMetrics(ctx context.Context) ([]Metric, error) {
	return collect(ctx, c, opListMetrics, "/metrics", nil, ignoreIncluded(c.decodeMetric), nil)
}

// MetricCreate is the body of CreateMetric.
type MetricCreate struct {
	// Name and Suffix (the unit, for example "ms") are required.
	Name        string
	Suffix      string
	Description string
	CalcType    MetricCalcType
	// DefaultValue is sent with two decimals, as Cachet's decimal:1,2 rule
	// requires; nil leaves Cachet's default.
	DefaultValue *float64
	DisplayChart *bool
	// Threshold in minutes must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20,
	// 30 or 60); 0 leaves Cachet's default of 5. Use 1 for a gauge pushed
	// once a minute.
	Threshold int
	// Places is the number of decimals shown, 0 to 4; nil leaves the default 2.
	Places *int
}

type metricBody struct {
	Name         string         `json:"name"`
	Suffix       string         `json:"suffix"`
	Description  string         `json:"description,omitempty"`
	CalcType     MetricCalcType `json:"calc_type"`
	DefaultValue string         `json:"default_value,omitempty"`
	DisplayChart *bool          `json:"display_chart,omitempty"`
	Threshold    int            `json:"threshold,omitempty"`
	Places       *int           `json:"places,omitempty"`
}

// buildMetricCreate renders the JSON body of POST /metrics.
func buildMetricCreate(in MetricCreate) ([]byte, error) {
	if strings.TrimSpace(in.Name) == "" {
		return nil, errors.New("name is required")
	}
	if strings.TrimSpace(in.Suffix) == "" {
		return nil, errors.New("suffix is required")
	}
	if in.CalcType != MetricSum && in.CalcType != MetricAverage {
		return nil, fmt.Errorf("invalid calc type %d", int(in.CalcType))
	}
	if in.Threshold != 0 && (in.Threshold < 1 || in.Threshold > 60 || 60%in.Threshold != 0) {
		return nil, fmt.Errorf("threshold %d is not a factor of 60", in.Threshold)
	}
	if in.Places != nil && (*in.Places < 0 || *in.Places > 4) {
		return nil, fmt.Errorf("places %d is outside 0-4", *in.Places)
	}
	b := metricBody{
		Name:         in.Name,
		Suffix:       in.Suffix,
		Description:  in.Description,
		CalcType:     in.CalcType,
		DisplayChart: in.DisplayChart,
		Threshold:    in.Threshold,
		Places:       in.Places,
	}
	if in.DefaultValue != nil {
		if math.IsNaN(*in.DefaultValue) || math.IsInf(*in.DefaultValue, 0) {
			return nil, errors.New("default value is not a finite number")
		}
		b.DefaultValue = strconv.FormatFloat(*in.DefaultValue, 'f', 2, 64)
	}
	return json.Marshal(b)
}

// CreateMetric creates a metric (ability metrics.manage). Cachet returns
// the unrefreshed model, so fields left to database defaults may read as 0
// in the result; they are filled from the request where it set them.
func (c *Client) CreateMetric(ctx context.Context, in MetricCreate) (Metric, error) {
	body, err := buildMetricCreate(in)
	if err != nil {
		return Metric{}, fmt.Errorf("cachet: %s: %w", opCreateMetric.name, err)
	}
	doc, err := c.write(ctx, opCreateMetric, http.MethodPost, "/metrics", body)
	if err != nil {
		return Metric{}, err
	}
	m, err := c.decodeMetric(doc.Data[0])
	if err != nil {
		return Metric{}, fmt.Errorf("cachet: %s: %w", opCreateMetric.name, err)
	}
	if m.Threshold == 0 && in.Threshold != 0 {
		m.Threshold = in.Threshold
	}
	if m.Places == 0 && in.Places != nil {
		m.Places = *in.Places
	}
	return m, nil
}

// MetricPoint is one stored point of a metric (reference §3.7).
type MetricPoint struct {
	ID       int
	MetricID int
	// Value is the value of the point's first sample. Samples merged into
	// the point later only raise Counter.
	Value float64
	// CalculatedValue is Value × Counter.
	CalculatedValue float64
	Counter         int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

type metricPointAttributes struct {
	MetricID        flexInt   `json:"metric_id"`
	Value           flexFloat `json:"value"`
	CalculatedValue flexFloat `json:"calculated_value"`
	Counter         flexInt   `json:"counter"`
	Created         wireTime  `json:"created"`
	CreatedAt       wireTime  `json:"created_at"`
	Updated         wireTime  `json:"updated"`
	UpdatedAt       wireTime  `json:"updated_at"`
}

func (c *Client) decodeMetricPoint(r resource, metricID int) (MetricPoint, error) {
	var a metricPointAttributes
	if err := json.Unmarshal(r.Attributes, &a); err != nil {
		return MetricPoint{}, fmt.Errorf("decode metric point %d: %w", r.ID, err)
	}
	p := MetricPoint{
		ID:              r.ID,
		MetricID:        int(a.MetricID),
		Value:           float64(a.Value),
		CalculatedValue: float64(a.CalculatedValue),
		Counter:         int(a.Counter),
		CreatedAt:       c.time(a.Created.orTime(a.CreatedAt)),
		UpdatedAt:       c.time(a.Updated.orTime(a.UpdatedAt)),
	}
	if p.MetricID == 0 {
		p.MetricID = metricID
	}
	return p, nil
}

type metricPointBody struct {
	Value     float64 `json:"value"`
	Timestamp int64   `json:"timestamp,omitempty"`
}

// buildMetricPointCreate renders the JSON body of POST
// /metrics/{id}/points. The timestamp goes out as Unix seconds in a JSON
// number: Cachet reads a string of digits as a date, not as epoch seconds.
func buildMetricPointCreate(value float64, at time.Time) ([]byte, error) {
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return nil, errors.New("value is not a finite number")
	}
	b := metricPointBody{Value: value}
	if !at.IsZero() {
		b.Timestamp = at.Unix()
	}
	return json.Marshal(b)
}

// PostMetricPoint records value for metric id at time at (zero means now)
// and returns the point Cachet stored (ability metric-points.manage).
//
// When the metric's newest point lies within the metric's threshold (in
// minutes) of at, Cachet does not store value: it increments that point's
// counter and returns it. Cachet answers 201 either way. Because of that
// merge a retried post can double-count, so posts are retried only when
// Cachet cannot have processed them.
func (c *Client) PostMetricPoint(ctx context.Context, metricID int, value float64, at time.Time) (MetricPoint, error) {
	body, err := buildMetricPointCreate(value, at)
	if err != nil {
		return MetricPoint{}, fmt.Errorf("cachet: %s: %w", opCreateMetricPoint.name, err)
	}
	doc, err := c.write(ctx, opCreateMetricPoint, http.MethodPost, "/metrics/"+strconv.Itoa(metricID)+"/points", body)
	if err != nil {
		return MetricPoint{}, err
	}
	p, err := c.decodeMetricPoint(doc.Data[0], metricID)
	if err != nil {
		return MetricPoint{}, fmt.Errorf("cachet: %s: %w", opCreateMetricPoint.name, err)
	}
	return p, nil
}

// ListMetricPoints returns every point of metric id, oldest first.
func (c *Client) ListMetricPoints(ctx context.Context, metricID int) ([]MetricPoint, error) {
	decode := func(r resource) (MetricPoint, error) { return c.decodeMetricPoint(r, metricID) }
	return collect(ctx, c, opListMetricPoints, "/metrics/"+strconv.Itoa(metricID)+"/points", nil, ignoreIncluded(decode), nil)
}
